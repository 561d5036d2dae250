"""Collections only the legacy schemas declare (production's snapshot had none): re-pointed to
participants as the authors do, or renamed from the first schema's snake_case names."""
import hashlib

from migration.engine import Quarantine
from migration.engine.validation.schema import load_schema
from migration.engine.validation.validator import Validator
from migration.meeshy import SCHEMA_PATH
from migration.meeshy.transforms.participants import user_participant_id
from testing.legacy.hand_built import (
    at,
    legacy_anonymous,
    legacy_conversation,
    legacy_member,
    legacy_message,
    legacy_user,
    oid,
)
from testing.legacy.in_memory import migrate_in_memory, rule_for

VALIDATOR = Validator(load_schema(SCHEMA_PATH))
CONV, ALICE, BOB, ANON, MSG = oid(100), oid(1), oid(2), oid(20), oid(50)


def dataset(**extra):
    data = {"User": [legacy_user(ALICE), legacy_user(BOB)], "Conversation": [legacy_conversation(CONV)],
            "ConversationMember": [legacy_member(oid(10), CONV, ALICE)],
            "AnonymousParticipant": [legacy_anonymous(ANON, CONV, oid(300), "tok")],
            "Message": [legacy_message(MSG, CONV, ALICE)]}
    data.update(extra)
    return data


def test_read_cursors_are_re_pointed_to_the_readers_participant():
    cursors = [{"_id": oid(70), "conversationId": CONV, "userId": ALICE, "unreadCount": 2, "version": 1,
                "updatedAt": at(30)},
               {"_id": oid(71), "conversationId": CONV, "anonymousId": ANON, "unreadCount": 0, "version": 1,
                "updatedAt": at(30)},
               {"_id": oid(72), "conversationId": CONV, "userId": BOB, "unreadCount": 0, "version": 1,
                "updatedAt": at(30)},
               {"_id": oid(73), "conversationId": oid(999), "userId": ALICE, "updatedAt": at(30)},
               {"_id": oid(74), "conversationId": CONV, "userId": ALICE, "anonymousId": ANON,
                "updatedAt": at(30)}]
    results = migrate_in_memory(dataset(ConversationReadCursor=cursors), "ConversationReadCursor")
    (alice,) = results[oid(70)]
    assert alice.doc["participantId"] == user_participant_id(CONV, ALICE) and "userId" not in alice.doc
    assert VALIDATOR.errors("ConversationReadCursor", alice.doc) == []
    assert results[oid(71)][0].doc["participantId"] == ANON and "anonymousId" not in results[oid(71)][0].doc
    historical, bob = results[oid(72)]  # no membership: the same historical participant a message makes
    assert historical.collection == "Participant" and bob.doc["participantId"] == historical.doc["_id"]
    assert results[oid(73)] == [Quarantine(f"conversation {oid(999)} does not exist")]
    assert results[oid(74)] == [Quarantine("has both userId and anonymousId")]


def test_attachment_reactions_find_the_conversation_through_their_message():
    reactions = [{"_id": oid(80), "attachmentId": oid(60), "messageId": MSG, "userId": ALICE, "emoji": "👍",
                  "createdAt": at(31), "updatedAt": at(31)},
                 {"_id": oid(81), "attachmentId": oid(60), "messageId": oid(888), "userId": ALICE,
                  "emoji": "👍",
                  "createdAt": at(31), "updatedAt": at(31)}]
    results = migrate_in_memory(dataset(AttachmentReaction=reactions), "AttachmentReaction")
    (written,) = results[oid(80)]
    assert written.doc["participantId"] == user_participant_id(CONV, ALICE)
    assert VALIDATOR.errors("AttachmentReaction", written.doc) == []
    assert results[oid(81)] == [Quarantine(f"message {oid(888)} does not exist")]


def test_call_participants_of_the_second_schema_use_its_call_sessions():
    session = {"_id": oid(40), "conversationId": CONV, "mode": "p2p", "status": "ended", "initiatorId": ALICE,
               "startedAt": at(10)}
    late = [{"_id": oid(41), "callSessionId": oid(40), "anonymousId": ANON, "role": "participant",
             "joinedAt": at(11), "connectionQuality": {"latency": 40}}]
    results = migrate_in_memory(dataset(CallSession=[session], CallParticipant=late), "CallParticipant")
    (written,) = results[oid(41)]
    assert written.doc["participantId"] == ANON
    assert written.doc["analytics"] == {"connectionQuality": {"latency": 40}}
    assert VALIDATOR.errors("CallParticipant", written.doc) == []


def test_first_schema_notification_settings_take_the_targets_names():
    legacy = {"_id": oid(90), "userId": ALICE, "pushEnabled": False, "newMessageEnabled": False,
              "reactionEnabled": True, "dndEnabled": False, "createdAt": at(1), "updatedAt": at(2)}
    rule = rule_for("notification_preferences")
    assert "reactionEnabled" in rule.dropped
    results = migrate_in_memory({"notification_preferences": [legacy]}, "notification_preferences")
    (written,) = results[oid(90)]
    assert written.doc["pushNotifications"] is False and written.doc["newMessage"] is False
    assert "pushEnabled" not in written.doc and "reactionEnabled" not in written.doc
    assert VALIDATOR.errors("notification_preferences", written.doc) == []


def test_user_sessions_hold_no_plain_token_and_keep_their_tokens_out_of_quarantine():
    assert set(rule_for("UserSession").redact) == set(rule_for("user_sessions").redact) == \
        {"sessionToken", "refreshToken"}
    hashed = hashlib.sha256(b"plain-session-id").hexdigest()
    already = hashlib.sha256(b"jwt").hexdigest()
    legacy = {"_id": oid(95), "userId": ALICE, "sessionToken": "plain-session-id", "refreshToken": already,
              "isValid": True, "expiresAt": at(90), "createdAt": at(1), "lastActivityAt": at(2)}
    (written,) = migrate_in_memory({"user_sessions": [legacy]}, "user_sessions")[oid(95)]
    assert written.doc["sessionToken"] == hashed and written.doc["refreshToken"] == already
    assert "plain-session-id" not in repr(written.doc)
    assert VALIDATOR.errors("UserSession", written.doc) == []
