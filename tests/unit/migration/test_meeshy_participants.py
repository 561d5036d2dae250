"""ConversationMember / AnonymousParticipant -> Participant, on hand-built datasets."""
import hashlib

import bson
from hypothesis import given, settings
from hypothesis import strategies as st

from migration.engine import Merge, Quarantine, Write
from migration.engine.validation.schema import load_schema
from migration.engine.validation.validator import Validator
from migration.meeshy import SCHEMA_PATH
from migration.meeshy.transforms.participants import user_participant_id
from testing.legacy.hand_built import (
    ABSENT,
    at,
    iso,
    legacy_anonymous,
    legacy_conversation,
    legacy_member,
    legacy_user,
    oid,
)
from testing.legacy.in_memory import migrate_in_memory

VALIDATOR = Validator(load_schema(SCHEMA_PATH))
CONV, ALICE, BOB, LINK = oid(100), oid(1), oid(2), oid(300)
TOKEN = "anon_plain_session_token_0123456789abcdef"


def base(**extra):
    data = {"User": [legacy_user(ALICE, displayName=ABSENT), legacy_user(BOB, avatar="/b.png")],
            "Conversation": [legacy_conversation(CONV)], "ConversationMember": [], "AnonymousParticipant": []}
    for key, docs in extra.items():
        data[key] = data.get(key, []) + docs
    return data


def test_exact_participant_of_one_membership():
    data = base(ConversationMember=[legacy_member(oid(10), CONV, ALICE, role="admin", nickname="Ada")])
    (outcome,) = migrate_in_memory(data, "ConversationMember")[oid(10)]
    assert outcome == Write({
        "_id": user_participant_id(CONV, ALICE), "conversationId": CONV, "type": "user", "userId": ALICE,
        "displayName": "user000001", "role": "admin",  # no displayName: the username (authors' rule)
        "permissions": {"canSendMessages": True, "canSendFiles": True, "canSendImages": True,
                        "canSendVideos": False, "canSendAudios": True, "canSendLocations": False,
                        "canSendLinks": True, "canViewHistory": True},
        "language": "fr", "isActive": True, "joinedAt": at(1),
        "isOnline": False, "lastActiveAt": at(10),  # the user's own last activity (lastSeen, later)
        "nickname": "Ada",
        "leftAt": None, "bannedAt": None})  # explicit nulls, as the authors' migration writes them
    assert VALIDATOR.errors("Participant", outcome.doc) == []


def test_duplicates_become_one_participant_earliest_join_active_if_any():
    data = base(ConversationMember=[
        legacy_member(oid(10), CONV, BOB, joinedAt=at(50), isActive=False, leftAt=at(60)),
        legacy_member(oid(11), CONV, str(BOB), joinedAt=iso(at(5)), isActive=False, leftAt=at(8)),
        legacy_member(oid(12), CONV, BOB, joinedAt=at(30), isActive=True, role="moderator")])
    results = migrate_in_memory(data, "ConversationMember")
    participant_id = user_participant_id(CONV, BOB)
    (written,) = results[oid(10)]
    assert isinstance(written, Write)
    assert written.doc["joinedAt"] == at(5) and written.doc["isActive"] is True
    assert written.doc["leftAt"] is None  # an active participant has not left (an explicit null)
    assert written.doc["role"] == "moderator" and written.doc["avatar"] == "/b.png"
    for merged in (oid(11), oid(12)):
        (outcome,) = results[merged]
        assert isinstance(outcome, Merge) and outcome.into == participant_id
        assert "duplicate membership" in outcome.reason


def test_inactive_duplicates_keep_the_latest_departure():
    data = base(ConversationMember=[legacy_member(oid(10), CONV, BOB, isActive=False, leftAt=at(60)),
                                    legacy_member(oid(11), CONV, BOB, isActive=False, leftAt=at(80))])
    (written,) = migrate_in_memory(data, "ConversationMember")[oid(10)]
    assert written.doc["isActive"] is False and written.doc["leftAt"] == at(80)


def test_unmigratable_memberships_are_quarantined_with_the_reason():
    data = base(ConversationMember=[legacy_member(oid(10), oid(999), ALICE),
                                    legacy_member(oid(11), CONV, oid(998)),
                                    legacy_member(oid(12), CONV, "alice"),
                                    legacy_member(oid(13), CONV, BOB, joinedAt="not a date")])
    results = migrate_in_memory(data, "ConversationMember")
    reasons = {k: v[0].reason for k, v in results.items() if isinstance(v[0], Quarantine)}
    assert reasons == {oid(10): f"conversation {oid(999)} does not exist",
                       oid(11): f"user {oid(998)} does not exist",
                       oid(12): "userId 'alice' is not an ObjectId reference",
                       oid(13): "joinedAt: 'not a date' is not a date"}


def test_anonymous_participant_keeps_only_the_token_hash():
    data = base(AnonymousParticipant=[legacy_anonymous(oid(20), CONV, LINK, TOKEN, email="g@x.org")])
    (outcome,) = migrate_in_memory(data, "AnonymousParticipant")[oid(20)]
    digest = hashlib.sha256(TOKEN.encode()).hexdigest()
    assert outcome == Write({
        "_id": oid(20), "conversationId": CONV, "type": "anonymous", "displayName": "Guest Visitor",
        "role": "member",
        "permissions": {"canSendMessages": True, "canSendFiles": False, "canSendImages": True,
                        "canSendVideos": False, "canSendAudios": False, "canSendLocations": False,
                        "canSendLinks": False, "canViewHistory": True},
        "language": "fr", "isActive": True, "isOnline": False, "joinedAt": at(2), "lastActiveAt": at(30),
        "leftAt": None, "bannedAt": None, "sessionTokenHash": digest, "shareLinkId": LINK,
        "anonymousSession": {
            "shareLinkId": str(LINK),  # a string inside the session, as the authors keep it
            "session": {"sessionTokenHash": digest, "ipAddress": "203.0.113.9", "country": "FR",
                        "connectedAt": at(2)},
            "profile": {"firstName": "Guest", "lastName": "Visitor",
                        "username": "guest42", "email": "g@x.org"}}})
    assert TOKEN.encode() not in bson.encode(outcome.doc)
    assert VALIDATOR.errors("Participant", outcome.doc) == []


def test_anonymous_participant_of_a_missing_conversation_is_quarantined():
    data = base(AnonymousParticipant=[legacy_anonymous(oid(20), oid(999), LINK, TOKEN),
                                      legacy_anonymous(oid(21), CONV, LINK, "", username="x")])
    results = migrate_in_memory(data, "AnonymousParticipant")
    assert results[oid(20)] == [Quarantine(f"conversation {oid(999)} does not exist")]
    assert isinstance(results[oid(21)][0], Quarantine) and "sessionToken" in results[oid(21)][0].reason


memberships = st.lists(st.tuples(st.integers(0, 10_000), st.booleans(), st.booleans()),
                       min_size=1, max_size=6)


@settings(max_examples=60)
@given(group=memberships)
def test_property_a_group_of_duplicates_yields_one_write_and_the_rest_merged(group):
    docs = [legacy_member(oid(1000 + i), CONV, str(ALICE) if as_string else ALICE,
                          joinedAt=at(minutes), isActive=active)
            for i, (minutes, active, as_string) in enumerate(group)]
    results = migrate_in_memory(base(ConversationMember=docs), "ConversationMember")
    writes = [o for outs in results.values() for o in outs if isinstance(o, Write)]
    merges = [o for outs in results.values() for o in outs if isinstance(o, Merge)]
    assert len(writes) == 1 and len(merges) == len(group) - 1
    assert writes[0].doc["joinedAt"] == at(min(m for m, _, _ in group))
    assert writes[0].doc["isActive"] == any(a for _, a, _ in group)
    assert VALIDATOR.errors("Participant", writes[0].doc) == []
