"""Every rule of the Meeshy chain, end to end through the engine on a real FerretDB, on the
hand-built showcase dataset (testing/legacy/hand_built.py): outputs checked field by field."""
import hashlib

import pytest

from migration.engine import api
from migration.engine.chain import load_chain
from migration.engine.validation.schema import load_schema
from migration.engine.validation.validator import Validator
from migration.meeshy.transforms.participants import deleted_user_participant_id, user_participant_id
from testing.legacy.hand_built import (
    QUARANTINED_TOKEN,
    SHOWCASE_TOKEN,
    at,
    insert_documents,
    js_iso,
    oid,
    showcase_dataset,
)

CONV, LOST_CONV, ALICE, BOB, CAROL, GONE = oid(100), oid(199), oid(1), oid(2), oid(3), oid(9)


@pytest.fixture(scope="module")
def migrated(ferretdb):
    client = ferretdb.client()
    source, target = client["meeshy_rules_src"], client["meeshy_rules_tgt"]
    client.drop_database(source.name)
    client.drop_database(target.name)
    insert_documents(source, showcase_dataset())
    # Notifications migrated (the alternative to the operators' drop) so their rule is shown too.
    chain = load_chain("migration.meeshy", {"notifications": "migrate"})
    report = api.run(source, target, chain, Validator(load_schema(chain.schema_path)))
    yield report, source, target
    client.close()


def test_run_verifies(migrated):
    report, _, _ = migrated
    assert report["ok"], report["verification"]["problems"]


def test_user_role_presence_and_lists(migrated):
    _, _, target = migrated
    alice = target.User.find_one({"_id": ALICE})
    assert alice["role"] == "MODERATOR" and alice["lastActiveAt"] == at(50)
    assert "lastSeen" not in alice and alice["blockedUserIds"] == [] and alice["twoFactorBackupCodes"] == []
    bob = target.User.find_one({"_id": BOB})
    assert bob["lastActiveAt"] == at(5) and bob["createdAt"] == at(0) and "displayName" not in bob


def test_duplicate_memberships_become_one_participant(migrated):
    report, _, target = migrated
    (alice,) = list(target.Participant.find({"userId": ALICE}))
    assert alice == {
        "_id": user_participant_id(CONV, ALICE), "conversationId": CONV, "type": "user", "userId": ALICE,
        "displayName": "Ada 000001", "role": "admin",
        "permissions": {"canSendMessages": True, "canSendFiles": True, "canSendImages": True,
                        "canSendVideos": False, "canSendAudios": True, "canSendLocations": False,
                        "canSendLinks": True, "canViewHistory": True},
        "language": "fr", "isActive": True, "joinedAt": at(3),
        "isOnline": False, "lastActiveAt": at(50),  # the user's own last activity
        "leftAt": None, "bannedAt": None}  # explicit nulls, as the authors' migration writes them
    members = report["collections"]["ConversationMember"]
    assert (members["written"], members["merged"], members["quarantined"]) == (2, 1, 1)


def test_anonymous_participant_holds_the_hash_and_the_plain_token_is_nowhere(migrated, ferretdb):
    _, _, target = migrated
    anonymous = target.Participant.find_one({"_id": oid(20)})
    digest = hashlib.sha256(SHOWCASE_TOKEN.encode()).hexdigest()
    assert anonymous["type"] == "anonymous" and anonymous["sessionTokenHash"] == digest
    assert anonymous["anonymousSession"]["session"]["sessionTokenHash"] == digest
    assert "sessionToken" not in anonymous
    # Every document of every collection, bookkeeping and quarantine included; the second
    # token belongs to a participant quarantined because its conversation does not exist.
    for name in target.list_collection_names():
        for doc in target[name].find(batch_size=1000):
            for token in (SHOWCASE_TOKEN, QUARANTINED_TOKEN):
                assert token not in repr(doc), (name, doc["_id"])


def test_message_senders_become_participants(migrated):
    _, _, target = migrated
    messages = {m["_id"]: m for m in target.Message.find()}
    assert messages[oid(50)]["senderId"] == user_participant_id(CONV, ALICE)
    assert messages[oid(53)]["senderId"] == oid(20) and "anonymousSenderId" not in messages[oid(53)]
    historical = target.Participant.find_one({"_id": messages[oid(51)]["senderId"]})
    assert (historical["userId"], historical["isActive"], historical["joinedAt"]) == (CAROL, False, at(0))
    placeholder = target.Participant.find_one({"_id": messages[oid(52)]["senderId"]})
    assert placeholder["_id"] == deleted_user_participant_id(CONV)
    assert (placeholder["displayName"], placeholder["type"], placeholder["isActive"]) == \
        ("Deleted user", "user", False)
    assert "userId" not in placeholder
    assert oid(54) not in messages


def test_soft_delete_and_translations(migrated):
    _, _, target = migrated
    messages = {m["_id"]: m for m in target.Message.find()}
    assert messages[oid(51)]["deletedAt"] == at(21) and messages[oid(52)]["deletedAt"] == at(20)
    assert "deletedAt" in messages[oid(50)] and messages[oid(50)]["deletedAt"] is None
    assert all("isDeleted" not in m for m in messages.values())
    assert messages[oid(53)]["createdAt"] == at(44)
    # ISO strings inside the Json, as the gateway writes them (a BSON date there answers 500)
    assert messages[oid(50)]["translations"] == {
        "en": {"text": "hi there", "translationModel": "basic", "confidenceScore": 0.9,
               "createdAt": js_iso(at(22)), "updatedAt": js_iso(at(31))},
        "es": {"text": "hola", "translationModel": "basic", "confidenceScore": 0.9,
               "createdAt": js_iso(at(22)), "updatedAt": js_iso(at(23))}}


def test_every_live_message_carries_an_explicit_null_deleted_at(migrated):
    """The gateway lists `where: {deletedAt: null}`, which Prisma's MongoDB connector matches only
    on a present null: a live message without the field is never served."""
    _, _, target = migrated
    assert target.Message.count_documents({"deletedAt": {"$exists": False}}) == 0
    live = target.Message.count_documents({"deletedAt": {"$type": "null"}})
    deleted = target.Message.count_documents({"deletedAt": {"$type": "date"}})
    assert live > 0 and deleted > 0 and live + deleted == target.Message.count_documents({})
    assert "MessageTranslation" not in target.list_collection_names()


def test_statuses_and_reactions_attach_to_participants_with_duplicates_merged(migrated):
    report, _, target = migrated
    bob = user_participant_id(CONV, BOB)
    assert target.MessageStatusEntry.find_one({"_id": oid(70)}) == {
        "_id": oid(70), "messageId": oid(50), "conversationId": CONV, "participantId": bob,
        "receivedAt": at(24), "readAt": at(25), "createdAt": at(24), "updatedAt": at(25),
        "viewedLanguages": []}
    assert target.MessageStatusEntry.count_documents({}) == 2
    assert report["collections"]["MessageStatus"]["merged"] == 1
    reactions = {r["_id"]: r for r in target.Reaction.find()}
    assert set(reactions) == {oid(80), oid(82)} and reactions[oid(82)]["participantId"] == oid(20)
    assert report["collections"]["Reaction"]["merged"] == 1


def test_notifications_are_structured(migrated):
    _, _, target = migrated
    first = target.Notification.find_one({"_id": oid(90)})
    assert first["actor"] == {"id": str(BOB), "username": "bob"}  # Json in the target: a hex string
    assert first["metadata"] == {"conversationTitle": "Team"} and "context" not in first
    assert first["delivery"] == {"emailSent": False, "pushSent": True}
    assert target.Notification.find_one({"_id": oid(91)})["metadata"] == {"raw": "{not json"}


def test_renamed_and_retired_collections(migrated):
    report, _, target = migrated
    names = set(target.list_collection_names())
    assert {"CallSession", "CallParticipant", "UserConversationPreferences",
            "UserConversationCategory"} <= names
    assert not names & {"call_sessions", "call_participants", "user_conversation_preferences",
                        "user_conversation_categories", "MessageReadStatus", "old_message_status",
                        "MessageAttachment_backup_urls", "TypingIndicator", "ConversationMember"}
    assert target.CallSession.find_one()["startedAt"] == at(5)
    assert target.CallParticipant.find_one()["callSessionId"] == oid(110)
    for retired in ("old_message_status", "MessageAttachment_backup_urls"):
        assert report["collections"][retired]["dropped"] == 1
    assert report["collections"]["MessageReadStatus"]["dropped"] == 0  # migrated, the operators' decision


def test_quarantine_names_collection_id_and_reason(migrated):
    _, _, target = migrated
    found = {(q["collection"], q["sourceId"]): q["reason"] for q in target["_quarantine"].find()}
    assert found[("Message", oid(54))] == f"conversation {LOST_CONV} does not exist"
    assert found[("MessageTranslation", oid(63))] == f"message {oid(77)} does not exist"
    assert found[("Notification", oid(92))] == "userId: 'alice' is not an ObjectId reference"
    assert found[("ConversationMember", oid(13))] == "userId 'not-a-user-id' is not an ObjectId reference"
    assert found[("AnonymousParticipant", oid(21))] == f"conversation {LOST_CONV} does not exist"


def test_accounting_reconciles_for_every_source_collection(migrated):
    report, source, _ = migrated
    for name, entry in report["collections"].items():
        assert source[name].count_documents({}) == entry["documents"] == (
            entry["written"] + entry["merged"] + entry["quarantined"] + entry["dropped"]), name
