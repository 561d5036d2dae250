"""MessageStatus -> MessageStatusEntry and Reaction rules, on hand-built datasets."""
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
    legacy_message,
    legacy_reaction,
    legacy_status,
    legacy_user,
    oid,
)
from testing.legacy.in_memory import migrate_in_memory

VALIDATOR = Validator(load_schema(SCHEMA_PATH))
CONV, ALICE, BOB, GONE, ANON, MSG, LOST = oid(100), oid(1), oid(2), oid(7), oid(20), oid(50), oid(51)


def dataset(**extra):
    data = {"User": [legacy_user(ALICE), legacy_user(BOB)],
            "Conversation": [legacy_conversation(CONV)],
            "ConversationMember": [legacy_member(oid(10), CONV, ALICE)],
            "AnonymousParticipant": [legacy_anonymous(ANON, CONV, oid(300), "tok")],
            "Message": [legacy_message(MSG, CONV, ALICE), legacy_message(LOST, oid(999), ALICE)]}
    data.update(extra)
    return data


def test_exact_status_entry_of_a_member():
    results = migrate_in_memory(dataset(MessageStatus=[legacy_status(oid(70), str(MSG), ALICE)]),
                              "MessageStatus")
    assert results[oid(70)] == [Write({
        "_id": oid(70), "messageId": MSG, "conversationId": CONV,
        "participantId": user_participant_id(CONV, ALICE), "receivedAt": at(24), "readAt": at(25),
        "createdAt": at(24), "updatedAt": at(25), "viewedLanguages": []})]
    assert VALIDATOR.errors("MessageStatusEntry", results[oid(70)][0].doc) == []


def test_an_unread_status_entry_carries_an_explicit_null_read_time():
    """The gateway's write-once read receipt updates `where: {readAt: null}`, which Prisma
    matches only on a present null: an unread entry must carry one to be marked read later."""
    results = migrate_in_memory(dataset(MessageStatus=[legacy_status(oid(70), MSG, ALICE, readAt=ABSENT)]),
                                "MessageStatus")
    (entry,) = results[oid(70)]
    assert "readAt" in entry.doc and entry.doc["readAt"] is None and entry.doc["receivedAt"] == at(24)
    assert "deliveredAt" not in entry.doc  # its null would make the gateway restamp receivedAt
    assert VALIDATOR.errors("MessageStatusEntry", entry.doc) == []


def test_duplicate_statuses_merge_into_the_first_with_the_earliest_dates():
    statuses = [legacy_status(oid(70), MSG, ALICE, readAt=ABSENT),
                legacy_status(oid(71), MSG, str(ALICE), receivedAt=iso(at(3)), readAt=at(90)),
                legacy_status(oid(72), MSG, ALICE, receivedAt=ABSENT, readAt=at(40))]
    results = migrate_in_memory(dataset(MessageStatus=statuses), "MessageStatus")
    (entry,) = results[oid(70)]
    assert (entry.doc["receivedAt"], entry.doc["readAt"]) == (at(3), at(40))
    for duplicate in (oid(71), oid(72)):
        (merged,) = results[duplicate]
        assert isinstance(merged, Merge) and merged.into == oid(70) and "duplicate status" in merged.reason


def test_status_of_a_reader_without_membership_creates_a_historical_participant():
    results = migrate_in_memory(dataset(MessageStatus=[legacy_status(oid(70), MSG, BOB)]), "MessageStatus")
    participant, entry = results[oid(70)]
    assert participant.collection == "Participant" and participant.doc["isActive"] is False
    assert entry.doc["participantId"] == participant.doc["_id"] == user_participant_id(CONV, BOB)


def test_statuses_that_cannot_attach_are_quarantined_with_the_reason():
    statuses = [legacy_status(oid(70), MSG, GONE), legacy_status(oid(71), LOST, ALICE),
                legacy_status(oid(72), oid(888), ALICE), legacy_status(oid(73), MSG, "alice")]
    results = migrate_in_memory(dataset(MessageStatus=statuses), "MessageStatus")
    assert results[oid(70)] == [Quarantine(f"user {GONE} no longer exists: "
                                           "there is no participant to attach it to")]
    assert results[oid(71)] == [
        Quarantine(f"parent quarantined: Message {LOST} (conversation {oid(999)} does not exist)")]
    assert results[oid(72)] == [Quarantine(f"message {oid(888)} does not exist")]
    assert results[oid(73)] == [Quarantine("userId 'alice' is not an ObjectId reference")]


def test_reactions_attach_to_participants_and_duplicates_merge():
    reactions = [legacy_reaction(oid(80), MSG, "👍", userId=ALICE),
                 legacy_reaction(oid(81), str(MSG), "👍", userId=str(ALICE), createdAt=iso(at(2))),
                 legacy_reaction(oid(82), MSG, "❤️", userId=ALICE),
                 legacy_reaction(oid(83), MSG, "👍", anonymousUserId=ANON),
                 legacy_reaction(oid(84), MSG, "👍", anonymousUserId=oid(21)),
                 legacy_reaction(oid(85), MSG, "👍", userId=GONE)]
    results = migrate_in_memory(dataset(Reaction=reactions), "Reaction")
    alice = user_participant_id(CONV, ALICE)
    # updatedAt is required by the target: a reaction never updated, when it was made.
    assert results[oid(80)] == [Write({"_id": oid(80), "messageId": MSG, "participantId": alice,
                                       "emoji": "👍",
                                       "createdAt": at(2), "updatedAt": at(2)})]
    assert results[oid(81)] == [
        Merge(oid(80), f"duplicate 👍 reaction of participant {alice} on message {MSG}")]
    assert results[oid(82)][0].doc["participantId"] == alice and results[oid(82)][0].doc["emoji"] == "❤️"
    assert results[oid(83)][0].doc["participantId"] == ANON
    assert results[oid(84)] == [Quarantine(f"anonymous participant {oid(21)} does not exist")]
    assert isinstance(results[oid(85)][0], Quarantine)
    assert VALIDATOR.errors("Reaction", results[oid(80)][0].doc) == []


@settings(max_examples=50)
@given(statuses=st.lists(st.tuples(st.sampled_from([ALICE, BOB]), st.booleans()), min_size=1, max_size=8))
def test_property_one_entry_per_participant_and_every_status_accounted(statuses):
    docs = [legacy_status(oid(700 + i), MSG, str(user) if as_string else user)
            for i, (user, as_string) in enumerate(statuses)]
    results = migrate_in_memory(dataset(MessageStatus=docs), "MessageStatus")
    entries = [o for outs in results.values() for o in outs if isinstance(o, Write) and o.collection is None]
    merged = [o for outs in results.values() for o in outs if isinstance(o, Merge)]
    distinct = {user for user, _ in statuses}
    assert len(entries) == len(distinct)
    assert len(entries) + len(merged) == len(statuses)
    assert len({e.doc["participantId"] for e in entries}) == len(distinct)


def test_read_statuses_fold_into_statuses_or_become_entries():
    statuses = [legacy_status(oid(70), MSG, ALICE, readAt=at(40))]
    reads = [{"_id": oid(75), "messageId": MSG, "userId": ALICE, "readAt": at(30)},  # before the status
             {"_id": oid(76), "messageId": MSG, "userId": BOB, "readAt": at(35)},    # no status: own entry
             {"_id": oid(77), "messageId": MSG, "userId": BOB, "readAt": at(33)},     # its duplicate
             {"_id": oid(78), "messageId": LOST, "userId": BOB, "readAt": at(35)}]
    data = dataset(MessageStatus=statuses, MessageReadStatus=reads)
    (status,) = migrate_in_memory(data, "MessageStatus")[oid(70)]
    assert status.doc["readAt"] == at(30)  # the earlier read time wins
    results = migrate_in_memory(data, "MessageReadStatus")
    assert isinstance(results[oid(75)][0], Merge) and results[oid(75)][0].into == oid(70)
    historical, entry = results[oid(76)]
    assert historical.collection == "Participant" and entry.doc["readAt"] == at(33)
    assert entry.doc["participantId"] == user_participant_id(CONV, BOB)
    assert VALIDATOR.errors("MessageStatusEntry", entry.doc) == []
    assert results[oid(77)][0] == Merge(oid(76), f"duplicate read status of participant "
                                                 f"{user_participant_id(CONV, BOB)} on message {MSG}")
    assert isinstance(results[oid(78)][0], Quarantine)
