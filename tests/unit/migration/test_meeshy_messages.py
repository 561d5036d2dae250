"""Message and MessageTranslation rules, on hand-built datasets."""
from datetime import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from migration.engine import Merge, Quarantine, Write
from migration.engine.validation.schema import load_schema
from migration.engine.validation.validator import Validator
from migration.meeshy import SCHEMA_PATH
from migration.meeshy.transforms.messages import iso_string
from migration.meeshy.transforms.participants import deleted_user_participant_id, user_participant_id
from testing.legacy.hand_built import (
    ABSENT,
    at,
    iso,
    js_iso,
    legacy_anonymous,
    legacy_conversation,
    legacy_member,
    legacy_message,
    legacy_translation,
    legacy_user,
    oid,
)
from testing.legacy.in_memory import migrate_in_memory

VALIDATOR = Validator(load_schema(SCHEMA_PATH))
CONV, OTHER_CONV, ALICE, BOB, GONE, GONE2, ANON = oid(100), oid(101), oid(1), oid(2), oid(7), oid(8), oid(20)


def dataset(messages, translations=()):
    return {"User": [legacy_user(ALICE), legacy_user(BOB, displayName=ABSENT)],
            "Conversation": [legacy_conversation(CONV), legacy_conversation(OTHER_CONV, createdAt=at(-100))],
            "ConversationMember": [legacy_member(oid(10), CONV, ALICE)],
            "AnonymousParticipant": [legacy_anonymous(ANON, CONV, oid(300), "tok")],
            "Message": list(messages), "MessageTranslation": list(translations)}


def outcomes(messages, translations=(), source="Message"):
    return migrate_in_memory(dataset(messages, translations), source)


def test_exact_message_of_a_member():
    (outcome,) = outcomes([legacy_message(oid(50), CONV, str(ALICE))])[oid(50)]
    assert outcome == Write({
        "_id": oid(50), "conversationId": CONV, "senderId": user_participant_id(CONV, ALICE),
        "content": "bonjour", "originalLanguage": "fr", "messageType": "text", "isEdited": False,
        "createdAt": at(20), "updatedAt": at(21),
        "deletedAt": None,  # live: an explicit null, what the gateway's `deletedAt: null` matches
        # Required by the target, absent from legacy messages: the target's own defaults.
        "messageSource": "user", "isViewOnce": False, "viewOnceCount": 0, "isBlurred": False,
        "effectFlags": 0, "validatedMentions": [], "reactionCount": 0, "isEncrypted": False})
    assert VALIDATOR.errors("Message", outcome.doc) == []


def test_sender_without_membership_gets_an_inactive_historical_participant():
    participant, message = outcomes([legacy_message(oid(50), CONV, BOB)])[oid(50)]
    assert participant == Write({
        "_id": user_participant_id(CONV, BOB), "conversationId": CONV, "type": "user", "userId": BOB,
        "displayName": "user000002", "role": "member",
        "permissions": {"canSendMessages": True, "canSendFiles": True, "canSendImages": True,
                        "canSendVideos": True, "canSendAudios": True, "canSendLocations": True,
                        "canSendLinks": True, "canViewHistory": True},
        "language": "fr", "isActive": False, "joinedAt": at(0), "isOnline": False, "lastActiveAt": at(10),
        "leftAt": None, "bannedAt": None},
        "Participant")
    assert message.doc["senderId"] == participant.doc["_id"]
    assert VALIDATOR.errors("Participant", participant.doc) == []


def test_deleted_senders_share_one_placeholder_per_conversation():
    results = outcomes([legacy_message(oid(50), CONV, GONE), legacy_message(oid(51), CONV, GONE2),
                        legacy_message(oid(52), OTHER_CONV, GONE)])
    (p1, m1), (p2, m2), (p3, _) = results[oid(50)], results[oid(51)], results[oid(52)]
    assert p1 == p2 and p1.collection == "Participant"
    assert p1.doc == {"_id": deleted_user_participant_id(CONV), "conversationId": CONV, "type": "user",
                      "displayName": "Deleted user", "role": "member", "permissions": p1.doc["permissions"],
                      "language": "en", "isActive": False, "isOnline": False, "lastActiveAt": at(0),
                      "joinedAt": at(0), "leftAt": None, "bannedAt": None}
    assert VALIDATOR.errors("Participant", p1.doc) == []
    assert "userId" not in p1.doc
    assert m1.doc["senderId"] == m2.doc["senderId"] == deleted_user_participant_id(CONV)
    assert p3.doc["_id"] == deleted_user_participant_id(OTHER_CONV) != p1.doc["_id"]
    assert p3.doc["joinedAt"] == at(-100)


def test_anonymous_sender_becomes_the_anonymous_participant():
    results = outcomes([legacy_message(oid(50), CONV, anonymousSenderId=ANON),
                        legacy_message(oid(51), CONV, anonymousSenderId=oid(21)),
                        legacy_message(oid(52), OTHER_CONV, anonymousSenderId=ANON)])
    (written,) = results[oid(50)]
    assert written.doc["senderId"] == ANON and "anonymousSenderId" not in written.doc
    assert results[oid(51)] == [Quarantine(f"anonymous participant {oid(21)} does not exist")]
    assert results[oid(52)] == [Quarantine(f"anonymous participant {ANON} belongs to another conversation")]


def test_unmigratable_messages_are_quarantined_with_the_reason():
    results = outcomes([legacy_message(oid(50), oid(999), ALICE), legacy_message(oid(51), CONV, "bob"),
                        legacy_message(oid(52), CONV), legacy_message(oid(53), "conv-1", ALICE)])
    assert results[oid(50)] == [Quarantine(f"conversation {oid(999)} does not exist")]
    assert results[oid(51)] == [Quarantine("senderId 'bob' is not an ObjectId reference")]
    assert results[oid(52)] == [Quarantine("has no sender")]
    assert results[oid(53)] == [Quarantine("conversationId 'conv-1' is not an ObjectId reference")]


def test_is_deleted_folds_into_deleted_at():
    results = outcomes([legacy_message(oid(50), CONV, ALICE, isDeleted=True),
                        legacy_message(oid(51), CONV, ALICE, isDeleted=True, updatedAt=ABSENT),
                        legacy_message(oid(52), CONV, ALICE, isDeleted=True, deletedAt=iso(at(40))),
                        legacy_message(oid(53), CONV, ALICE)])
    deleted = {k: v[-1].doc["deletedAt"] for k, v in results.items()}  # present on every one
    assert deleted == {oid(50): at(21), oid(51): at(20), oid(52): at(40), oid(53): None}
    assert all("isDeleted" not in v[-1].doc for v in results.values())
    assert results[oid(51)][-1].doc["updatedAt"] == at(20)  # never updated: its creation


def test_translations_are_embedded_latest_per_language():
    translations = [legacy_translation(oid(60), oid(50), "en", "hello", updatedAt=at(30)),
                    legacy_translation(oid(61), str(oid(50)), "en", "hi", updatedAt=iso(at(35)),
                                      confidenceScore=ABSENT),
                    legacy_translation(oid(62), oid(50), "es", "hola", translationModel="premium")]
    (message,) = outcomes([legacy_message(oid(50), CONV, ALICE)], translations)[oid(50)]
    assert message.doc["translations"] == {
        "en": {"text": "hi", "translationModel": "basic", "createdAt": js_iso(at(22)),
               "updatedAt": js_iso(at(35))},
        "es": {"text": "hola", "translationModel": "premium", "confidenceScore": 0.9,
               "createdAt": js_iso(at(22)), "updatedAt": js_iso(at(23))}}
    accounting = outcomes([legacy_message(oid(50), CONV, ALICE)], translations, "MessageTranslation")
    assert accounting[oid(61)] == [Merge(oid(50), "embedded as Message.translations.en")]
    assert accounting[oid(62)] == [Merge(oid(50), "embedded as Message.translations.es")]
    assert accounting[oid(60)] == [Merge(oid(50),
                                   f"superseded by translation {oid(61)} for 'en' (later updatedAt)")]


def test_translations_of_missing_or_quarantined_messages_are_quarantined():
    translations = [legacy_translation(oid(60), oid(77), "en", "x"),
                    legacy_translation(oid(61), oid(51), "en", "y"),
                    legacy_translation(oid(62), "m-50", "en", "z")]
    results = outcomes([legacy_message(oid(51), oid(999), ALICE)], translations, "MessageTranslation")
    assert results[oid(60)] == [Quarantine(f"message {oid(77)} does not exist")]
    assert results[oid(61)] == [
        Quarantine(f"parent quarantined: Message {oid(51)} (conversation {oid(999)} does not exist)")]
    assert results[oid(62)] == [Quarantine("messageId 'm-50' is not an ObjectId reference")]


@settings(max_examples=60)
@given(versions=st.lists(st.tuples(st.sampled_from(["en", "es", "de"]), st.integers(0, 500), st.booleans()),
                         min_size=1, max_size=6))
def test_property_each_language_keeps_its_latest_translation(versions):
    translations = [legacy_translation(oid(600 + i), oid(50), lang, f"t{i}",
                                       updatedAt=iso(at(minute)) if as_iso else at(minute))
                    for i, (lang, minute, as_iso) in enumerate(versions)]
    (message,) = outcomes([legacy_message(oid(50), CONV, ALICE)], translations)[oid(50)]
    for lang in {v[0] for v in versions}:
        best = max((minute, i) for i, (language, minute, _) in enumerate(versions) if language == lang)
        assert message.doc["translations"][lang]["text"] == f"t{best[1]}"
    accounting = outcomes([legacy_message(oid(50), CONV, ALICE)], translations, "MessageTranslation")
    embedded = [o for (o,) in accounting.values() if o.reason.startswith("embedded")]
    assert len(embedded) == len({v[0] for v in versions})
    assert VALIDATOR.errors("Message", message.doc) == []


def test_what_refers_to_a_quarantined_user_or_conversation_waits_for_it():
    data = dataset([legacy_message(oid(50), CONV, BOB), legacy_message(oid(51), OTHER_CONV, ALICE)])
    data["User"][1]["role"] = "SUPERUSER"                  # not a UserRole: the user is quarantined
    data["Conversation"][1]["communityId"] = "community-1"  # not a reference: quarantined too
    results = migrate_in_memory(data, "Message")
    assert results[oid(50)] == [Quarantine(f"parent quarantined: User {BOB}")]
    assert results[oid(51)] == [Quarantine(f"parent quarantined: Conversation {OTHER_CONV}")]
    data["ConversationMember"].append(legacy_member(oid(11), CONV, BOB))
    members = migrate_in_memory(data, "ConversationMember")
    assert members[oid(11)] == [Quarantine(f"parent quarantined: User {BOB}")]


def test_missing_required_stamps_and_flags_are_derived_not_invented():
    legacy = legacy_message(oid(50), CONV, ALICE, createdAt=ABSENT, updatedAt=ABSENT, isEdited=ABSENT,
                            isDeleted=True)
    (message,) = outcomes([legacy])[oid(50)]
    created = oid(50).generation_time.replace(tzinfo=None)  # when the driver made its id
    assert (message.doc["createdAt"], message.doc["updatedAt"], message.doc["deletedAt"]) == (created,) * 3
    assert message.doc["isEdited"] is False
    assert VALIDATOR.errors("Message", message.doc) == []


def test_translation_dates_are_written_as_the_gateway_writes_them():
    """JavaScript's toISOString(): four-digit year, milliseconds (truncated like BSON), "Z"."""
    assert iso_string(datetime(2026, 1, 25, 10, 0)) == "2026-01-25T10:00:00.000Z"
    assert iso_string(datetime(999, 12, 31, 23, 59, 59, 999_999)) == "0999-12-31T23:59:59.999Z"
    assert iso_string(at(22)) == js_iso(at(22))
