"""The ledger leaves own-id writes out of `targets` yet still finds every producer (FerretDB)."""
import pytest
from bson import ObjectId

from migration.engine.process import DocResult
from migration.engine.target.ledger import (
    ledger_collection,
    ledger_document,
    other_producer_exists,
    recorded_targets,
    target_token,
)


def result(source_id, *writes):
    return DocResult(source_id, "written", writes=[(c, i, None) for c, i in writes],
                     digest=b"\0" * 8)


@pytest.fixture
def target(ferretdb, fresh_db):
    client = ferretdb.client()
    yield client[fresh_db("ledger")]
    client.close()


def test_own_id_writes_are_found_through_the_entry(target):
    mine, shared, other = ObjectId(), ObjectId(), ObjectId()
    doc = ledger_document("Message", 1, [result(mine, ("Message", mine), ("Participant", shared)),
                                         result(other, ("Message", other))])
    assert doc["own"] is True
    assert doc["targets"] == [target_token("Participant", shared)]
    assert recorded_targets(doc) == {target_token("Message", mine),
                                     target_token("Participant", shared),
                                     target_token("Message", other)}
    ledger_collection(target, "Message").insert_one(doc)
    for token in (target_token("Message", mine), target_token("Participant", shared)):
        assert other_producer_exists(target, token, {"Message"}, [])
        assert not other_producer_exists(target, token, {"Message"}, [doc["_id"]])
    # Written by nobody: not under its own id by another entry, not by a missing one.
    assert not other_producer_exists(target, target_token("Message", shared), {"Message"}, [])
    assert not other_producer_exists(target, target_token("Message", ObjectId()),
                                     {"Message"}, [])
    assert not other_producer_exists(target, target_token("Reaction", mine), {"Message"}, [])


def test_a_batch_with_other_ids_records_every_target(target):
    doc = ledger_document("Tag", 1, [result("a", ("Tag", "a")), result(7, ("Tag", 7))])
    assert doc["own"] is False
    assert doc["targets"] == sorted([target_token("Tag", "a"), target_token("Tag", 7)])
    ledger_collection(target, "Tag").insert_one(doc)
    assert other_producer_exists(target, target_token("Tag", "a"), {"Tag"}, [])


def test_a_batch_recorded_again_after_an_interrupted_attempt_replaces_its_record(target):
    from migration.engine.target import writer
    source_id = ObjectId()
    first = [result(source_id, ("Message", source_id))]
    again = [DocResult(source_id, "written", writes=[("Message", source_id, None)],
                       digest=b"\1" * 8)]
    writer._record(target, "Message", first, [], [], seq=5)
    writer._record(target, "Message", again, [], [], seq=5)  # same seq: same ledger _id
    docs = list(ledger_collection(target, "Message").find())
    assert len(docs) == 1 and bytes(docs[0]["d"]) == b"\1" * 8
