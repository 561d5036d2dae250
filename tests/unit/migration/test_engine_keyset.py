"""KeySet and the reading order of verification: pure, no database."""
import pytest
from bson import ObjectId

from migration.engine.keyset import KeySet, exact_key
from migration.engine.model import Reference
from migration.engine.verification.scan import ReferenceCheck, reading_order


@pytest.mark.parametrize("spill_at", [1000, 3])
def test_a_keyset_holds_exact_keys_in_memory_and_spilled(spill_at):
    ids = [ObjectId() for _ in range(10)]
    keys = KeySet(spill_at=spill_at)
    for oid in ids:
        keys.add(exact_key([oid, "conv"]))
    assert keys.spilled == (spill_at < len(ids))
    assert all(exact_key([oid, "conv"]) in keys for oid in ids)
    # A reference stored as the hex string is not the ObjectId: the target must hold the type.
    assert exact_key([str(ids[0]), "conv"]) not in keys
    assert exact_key([ids[0], None]) not in keys
    assert exact_key([ObjectId(), "conv"]) not in keys
    keys.close()


def test_keys_of_types_the_canonical_encoding_lacks_stay_exact():
    assert exact_key([{"a": 1}]) == exact_key([{"a": 1}]) != exact_key([{"a": 2}])


def test_referenced_collections_are_read_before_the_ones_pointing_at_them():
    refs = [Reference("Message", "senderId", "Participant", scope="conversationId"),
            Reference("Participant", "conversationId", "Conversation"),
            Reference("Message", "replyToId", "Message")]
    needs, left_out = reading_order(["Conversation", "Message", "Participant"], refs)
    assert needs == {"Conversation": set(), "Participant": {"Conversation"},
                     "Message": {"Participant"}}
    assert left_out == [refs[2]]  # a collection pointing at itself needs its own reads


def test_a_cycle_is_left_out_and_the_rest_still_ordered():
    refs = [Reference("A", "b", "B"), Reference("B", "a", "A"), Reference("C", "a", "A")]
    needs, left_out = reading_order(["A", "B", "C"], refs)
    assert left_out == refs[:2]
    assert needs == {"A": set(), "B": set(), "C": {"A"}}


def test_broken_reference_examples_are_the_smallest_ids_whatever_the_order():
    check = ReferenceCheck(Reference("Message", "senderId", "Participant"))
    for n in [9, 3, 7, 1, 8, 2, 6, 5, 4]:
        check.note_broken(n)
    assert check.problems() == ["Message.senderId: 9 document(s) refer to no Participant "
                                "(e.g. 1, 2, 3, 4, 5)"]
