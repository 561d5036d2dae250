"""Collisions under the target's unique keys on FerretDB: resolved as each rule declares (merged
into the declared winner, or quarantined naming it), so the index build finds none; `plan`
reports the same counts the run then does, and names a collision no rule resolves (exit 3)."""
import pytest

from migration.engine import api
from migration.engine.chain import load_chain
from migration.engine.validation.schema import load_schema
from migration.engine.validation.validator import Validator
from testing.legacy.hand_built import (
    at,
    insert_documents,
    legacy_anonymous,
    legacy_conversation,
    legacy_member,
    legacy_user,
    oid,
)

CONV, ALICE, BOB = oid(100), oid(1), oid(2)
COUNTED = ("documents", "written", "merged", "quarantined", "dropped")


def preference(_id, updated, **extra):
    return {"_id": _id, "userId": ALICE, "conversationId": CONV, "isPinned": False, "isMuted": False,
            "isArchived": False, "tags": [], "createdAt": at(1), "updatedAt": updated, **extra}


def base():
    return {"User": [legacy_user(ALICE), legacy_user(BOB)], "Conversation": [legacy_conversation(CONV)],
            "ConversationMember": [legacy_member(oid(10), CONV, ALICE)]}


CASES = {
    # the case: two preferences of one user for one conversation; the latest edit wins
    "user_conversation_preferences": (
        {"user_conversation_preferences": [preference(oid(30), at(50), isPinned=True),
                                           preference(oid(31), at(40))]},
        "merged", oid(31), oid(30)),
    "UserStats": (
        {"UserStats": [{"_id": oid(40), "userId": ALICE, "createdAt": at(1), "updatedAt": at(2)},
                       {"_id": oid(41), "userId": ALICE, "createdAt": at(1), "updatedAt": at(9)}]},
        "quarantined", oid(41), oid(40)),
    "User": ({"User": [legacy_user(ALICE), legacy_user(BOB, email=legacy_user(ALICE)["email"])]},
             "quarantined", BOB, ALICE),
    "AnonymousParticipant": (
        {"AnonymousParticipant": [legacy_anonymous(oid(20), CONV, oid(300), "same-token"),
                                  legacy_anonymous(oid(21), CONV, oid(300), "same-token")]},
        "quarantined", oid(21), oid(20)),
}


@pytest.mark.parametrize("collection", sorted(CASES))
def test_a_collision_is_resolved_as_declared_and_planned(collection, ferretdb, fresh_db):
    extra, outcome, loser, winner = CASES[collection]
    client = ferretdb.client()
    source, target = client[fresh_db("unique_src")], client[fresh_db("unique_tgt")]
    insert_documents(source, {**base(), **extra})
    chain = load_chain("migration.meeshy")
    validator = Validator(load_schema(chain.schema_path))
    planned = api.plan(source, chain, validator)
    assert planned["ok"], planned["problems"]
    report = api.run(source, target, chain, validator)
    assert report["ok"], report["verification"]["problems"]
    entry = report["collections"][collection]
    assert entry[outcome] == 1
    for name, counts in report["collections"].items():
        assert {k: planned["collections"][name][k] for k in COUNTED} == {k: counts[k] for k in COUNTED}, name
    listing = planned["collections"][collection]["merges" if outcome == "merged" else "quarantine"]
    (named,) = [item for item in listing if item["id"] == loser]
    assert named.get("into", winner) == winner and str(winner) in named["reason"]
    assert "duplicate under unique" in named["reason"]
    if collection == "user_conversation_preferences":
        (kept,) = target.UserConversationPreferences.find()
        assert kept["_id"] == oid(30) and kept["isPinned"] is True  # the latest updatedAt
    client.close()


def test_plan_names_a_collision_no_rule_resolves(ferretdb, fresh_db):
    # Two legacy collections of one target: the second legacy schema's preferences collection
    # and the first one's; each resolves its own duplicates, not one against the other.
    client = ferretdb.client()
    source = client[fresh_db("unique_src")]
    insert_documents(source, {**base(), "user_conversation_preferences": [preference(oid(30), at(50))],
                              "UserConversationPreferences": [preference(oid(31), at(40))]})
    chain = load_chain("migration.meeshy")
    planned = api.plan(source, chain, Validator(load_schema(chain.schema_path)))
    assert not planned["ok"] and planned["unique_collisions"] == 1
    (problem,) = planned["problems"]
    assert problem.startswith("unique UserConversationPreferences_userId_conversationId_key on "
                              "UserConversationPreferences: ")
    assert f"user_conversation_preferences {oid(30)}" in problem
    assert f"UserConversationPreferences {oid(31)}" in problem
    client.close()
