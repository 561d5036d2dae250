"""Cascades on FerretDB: a quarantined parent takes what refers to it along (reason "parent
quarantined: <collection> <id>"), so a run never fails its own verification because of its own
quarantine, and `plan` predicts exactly the counts the run then reports."""
import pytest

from migration.engine import api
from migration.engine.chain import load_chain
from migration.engine.validation.schema import load_schema
from migration.engine.validation.validator import Validator
from testing.legacy.hand_built import (
    ABSENT,
    at,
    insert_documents,
    legacy_anonymous,
    legacy_conversation,
    legacy_member,
    legacy_message,
    legacy_reaction,
    legacy_status,
    legacy_translation,
    legacy_user,
    oid,
)

CONV, ALICE, BOB = oid(100), oid(1), oid(2)
COUNTED = ("documents", "written", "merged", "quarantined", "dropped")


def meeshy():
    chain = load_chain("migration.meeshy")
    return chain, Validator(load_schema(chain.schema_path))


def activity(message_id, n):
    """A status, a reaction, a translation and a mention of one message (ids from n)."""
    return {"MessageStatus": [legacy_status(oid(n), message_id, BOB)],
            "Reaction": [legacy_reaction(oid(n + 1), message_id, userId=BOB)],
            "MessageTranslation": [legacy_translation(oid(n + 2), message_id, "en", "hi")],
            "Mention": [{"_id": oid(n + 3), "messageId": message_id, "mentionedUserId": BOB,
                         "mentionedAt": at(20)}]}


CASES = {
    # issue: one bad createdAt on a user blocked the whole migration
    "user with a bad createdAt": ({"User": [legacy_user(ALICE, createdAt="yesterday")]}, "User", ALICE),
    "message with a bad createdAt": ({"Message": [legacy_message(oid(50), CONV, BOB, createdAt="soon")]},
                                     "Message", oid(50)),
    "message its schema refuses": ({"Message": [legacy_message(oid(50), CONV, BOB, content=42)]},
                                   "Message", oid(50)),
    # an anonymous participant without its session token could never reconnect: quarantined
    "anonymous sender without a token": (
        {"AnonymousParticipant": [legacy_anonymous(oid(20), CONV, oid(300), "t", sessionToken=ABSENT)],
         "Message": [legacy_message(oid(50), CONV, anonymousSenderId=oid(20))]},
        "AnonymousParticipant", oid(20)),
}


def dataset(case):
    data = {"User": [legacy_user(ALICE), legacy_user(BOB)], "Conversation": [legacy_conversation(CONV)],
            "ConversationMember": [legacy_member(oid(10), CONV, ALICE), legacy_member(oid(11), CONV, BOB)],
            "Message": [legacy_message(oid(50), CONV, ALICE), legacy_message(oid(51), CONV, BOB)]}
    overrides, _, _ = CASES[case]
    for name, docs in overrides.items():
        replaced = {d["_id"] for d in docs}
        data[name] = [d for d in data.get(name, []) if d["_id"] not in replaced] + docs
    for name, docs in activity(oid(50), 60).items():
        data.setdefault(name, []).extend(docs)
    return data


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_quarantined_parent_takes_its_dependents_along(case, ferretdb, fresh_db):
    client = ferretdb.client()
    source, target = client[fresh_db("cascade_src")], client[fresh_db("cascade_tgt")]
    insert_documents(source, dataset(case))
    _, parent_collection, parent_id = CASES[case]
    chain, validator = meeshy()
    planned = api.plan(source, chain, validator)
    # One parent and its handful of dependents: whole collections are quarantined on purpose,
    # which the run's quarantine-ratio guard would otherwise refuse.
    report = api.run(source, target, chain, validator, max_quarantine_ratio=1.0)
    assert report["ok"], report["verification"]["problems"]
    parent = f"parent quarantined: {parent_collection} {parent_id}"
    reasons = {q["id"]: q["reason"] for q in report["quarantine"]["listed"]}
    assert parent_id in reasons
    # status, reaction, translation, mention of message 50 (whose own parent may be the user)
    for dependent in (oid(60), oid(61), oid(62), oid(63)):
        reason = reasons.get(dependent, "")
        assert reason.startswith(f"parent quarantined: Message {oid(50)}") and parent in reason, reason
    if parent_collection == "User":  # the user's own membership and message follow it directly
        assert reasons[oid(10)] == reasons[oid(50)] == parent
    if parent_collection == "AnonymousParticipant":
        assert reasons[oid(50)] == parent
    for name, entry in report["collections"].items():
        assert {k: planned["collections"][name][k] for k in COUNTED} == {k: entry[k] for k in COUNTED}, name
    client.close()
