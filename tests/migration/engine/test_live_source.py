"""A pre-copy over a source that takes writes while it reads (`run --live-source`), then the
strict delta pass on the frozen source (real FerretDB, toy chain).

Writes land deterministically: a hook in the source reader fires once, right after the pass
has read the first batch of a chosen collection (it runs on the reading thread, between two
batches), so the documents it updates were already read and the ones it inserts sort before
every id the pass has yet to read.
"""
import datetime as dt

import pytest
from bson import ObjectId

from migration.engine import api, runner
from migration.engine.errors import CoverageError
from migration.engine.target import checkpoint
from migration.engine.target.ledger import id_token
from migration.engine.target.written import WrittenIds
from tests.support import toy_chain
from tests.support.migration_helpers import toy

# The migration's writes, reads and verification on both servers (tests/conftest.py).
pytestmark = pytest.mark.servers("ferretdb", "documentdb")

LOW_IDS = [ObjectId(bytes(11) + bytes([n])) for n in range(1, 4)]  # before any id read


def hook_after_first_batch(monkeypatch, collection: str, action) -> list:
    """Calls action(source_db, first_batch) once, after the pass read `collection`'s first
    batch. Returns the list of batches the hook saw (one)."""
    original, seen = runner.stable_batches, []

    def batches(coll, after=None, batch_size=runner.BATCH_SIZE):
        for batch in original(coll, after, batch_size):
            yield batch
            if coll.name == collection and not seen:
                seen.append(batch)
                action(coll.database, batch)
    monkeypatch.setattr(runner, "stable_batches", batches)
    return seen


def new_person(n: int, _id) -> dict:
    return {"_id": _id, "name": f"late {n}", "email": f"late{n}@example.org", "role": "member",
            "legacy": 1000 + n, "pin": f"late-pin-{n}", "joined": dt.datetime(2025, 1, n + 1)}


def insert_and_update_people(db, batch) -> None:
    db.people.insert_many([new_person(n, _id) for n, _id in enumerate(LOW_IDS)])
    for doc in batch[:2]:
        db.people.update_one({"_id": doc["_id"]}, {"$set": {"name": f"renamed {doc['name']}"}})


def run(source, target, **options):
    chain, validator = toy()
    return api.run(source, target, chain, validator, batch_size=5, **options)


@pytest.fixture
def dbs(ferretdb, fresh_db):
    client = ferretdb.client()
    source, target = client[fresh_db("src")], client[fresh_db("tgt")]
    toy_chain.make_source(source, people=25)
    yield source, target
    client.close()


def test_a_live_pre_copy_reports_the_writes_it_missed_and_the_strict_delta_carries_them(
        dbs, monkeypatch):
    source, target = dbs
    seen = hook_after_first_batch(monkeypatch, "people", insert_and_update_people)
    live = run(source, target, live_source=True)
    pre_copied = [d["_id"] for d in target.Person.find({}, {"_id": 1})]
    assert seen and live["ok"], live["verification"]["problems"]
    assert live["live_source"] and live["collections"]["people"]["documents"] == 25
    changes = live["verification"]["source_changes"]
    assert changes["people"] == {"read": 25, "source_now": 28, "growth": 3}
    assert changes["teams"]["growth"] == 0
    assert checkpoint.load_run(target)["provisional"] is True
    # The same target verified strictly: the source moved on after the pass read it.
    strict = api.verify(source, target, *toy())["verification"]["problems"]
    assert "people: the source holds 28 documents, the run accounted for 25" in strict[0]

    monkeypatch.undo()   # the source is frozen now (maintenance): the strict delta pass
    delta = run(source, target)
    assert delta["ok"], delta["verification"]["problems"]
    people = delta["collections"]["people"]
    assert people["documents"] == 28 and people["inserted"] == 3
    assert people["replaced"] == len(seen[0][:2])
    assert checkpoint.load_run(target)["provisional"] is False
    quarantined = {d["sourceId"] for d in target["_quarantine"].find({"collection": "people"})}
    migrated = {d["_id"] for d in target.Person.find()} - {toy_chain.ghost_id()}
    assert {d["_id"] for d in source.people.find()} == migrated | quarantined
    for doc in seen[0][:2]:
        assert target.Person.find_one({"_id": doc["_id"]})["name"] == f"renamed {doc['name']}"
    # The delta's report lists what it wrote, and nothing it left unchanged.
    assert delta["written"]["complete"] is True
    assert set(delta["written"]["ids"]) == {"Person"}
    assert sorted(delta["written"]["ids"]["Person"]) == sorted(
        id_token(_id) for _id in [*LOW_IDS, *(doc["_id"] for doc in seen[0][:2])])
    assert sorted(live["written"]["ids"]["Person"]) == sorted(map(id_token, pre_copied))


def test_past_its_limit_the_written_list_is_dropped_and_marked_incomplete():
    written = WrittenIds(limit=2)
    written.add("Person", LOW_IDS[0])
    written.add("Post", "p-1")
    assert written.report() == {"complete": True, "ids": {"Person": [id_token(LOW_IDS[0])],
                                                          "Post": ["sp-1"]}}
    written.add("Person", LOW_IDS[1])
    written.add("Person", LOW_IDS[2])
    assert written.report() == {"complete": False, "ids": {}}


def test_a_strict_pass_still_fails_when_the_source_grows_while_it_reads(dbs, monkeypatch):
    source, target = dbs
    hook_after_first_batch(monkeypatch, "people", insert_and_update_people)
    report = run(source, target)
    assert not report["ok"]
    assert any(p.startswith("people: the source holds 28 documents, the run accounted for 25")
               for p in report["verification"]["problems"]), report["verification"]
    assert checkpoint.load_run(target)["provisional"] is False


def test_a_reference_to_a_document_that_arrived_late_is_provisional_in_live_mode(
        dbs, monkeypatch):
    source, target = dbs
    team = source.teams.find_one({"archived": False})

    def person_and_membership(db, _batch):   # people were read already: Person lacks it
        db.people.insert_one(new_person(9, LOW_IDS[0]))
        db.memberships.insert_one({"_id": ObjectId(), "team": team["_id"],
                                   "person": LOW_IDS[0], "active": True,
                                   "since": dt.datetime(2025, 2, 1)})
    hook_after_first_batch(monkeypatch, "teams", person_and_membership)
    live = run(source, target, live_source=True)
    assert live["ok"], live["verification"]["problems"]
    assert any(p.startswith("Member.personId: 1 document(s) refer to no Person")
               for p in live["verification"]["provisional"]), live["verification"]
    monkeypatch.undo()
    delta = run(source, target)
    assert delta["ok"], delta["verification"]["problems"]
    assert target.Person.find_one({"_id": LOW_IDS[0]}) is not None


def test_a_live_pass_still_fails_on_too_many_quarantined_documents(dbs, monkeypatch):
    source, target = dbs
    hook_after_first_batch(monkeypatch, "people", insert_and_update_people)
    report = run(source, target, live_source=True, max_quarantine_ratio=0.01)
    assert not report["ok"]
    assert any("above --max-quarantine-ratio" in p for p in report["verification"]["problems"])


def test_a_live_pass_still_refuses_a_field_no_rule_covers(dbs, monkeypatch):
    source, target = dbs

    def unknown_field(db, _batch):
        db.teams.update_many({}, {"$set": {"colour": "red"}})
    hook_after_first_batch(monkeypatch, "people", unknown_field)
    with pytest.raises(CoverageError, match="colour of teams"):
        run(source, target, live_source=True)


def test_the_cli_runs_a_pre_copy_with_live_source_and_status_shows_it_provisional(
        ferretdb, fresh_db, tmp_path):
    import json

    from tests.support.cli_runner import migration_cli
    client = ferretdb.client()
    source, target = client[fresh_db("src")], client[fresh_db("tgt")]
    toy_chain.make_source(source, people=10)
    uris = ("--source", ferretdb.uri(source.name), "--target", ferretdb.uri(target.name))
    run = migration_cli("run", *uris, "--live-source", "--json", tmp_path / "run.json")
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads((tmp_path / "run.json").read_text())
    assert report["live_source"] is True
    assert report["verification"]["source_changes"]["people"]["growth"] == 0
    status = migration_cli("status", "--target", ferretdb.uri(target.name),
                           "--json", tmp_path / "status.json")
    assert status.returncode == 0, status.stdout + status.stderr
    assert json.loads((tmp_path / "status.json").read_text())["run"]["provisional"] is True
    client.close()
