"""The engine on a real FerretDB with the toy chain: plan, run, idempotence, delta, resume."""
import datetime as dt
import hashlib

import pytest

from migration.engine import api
from migration.engine.target import writer
from tests.support import toy_chain
from tests.support.migration_helpers import data_hashes, fingerprint, run_toy, toy, writes


@pytest.fixture
def dbs(ferretdb, fresh_db):
    client = ferretdb.client()
    source, target = client[fresh_db("src")], client[fresh_db("tgt")]
    toy_chain.make_source(source, people=40)
    yield client, source, target
    client.close()


def test_plan_writes_nothing_anywhere(dbs):
    client, source, target = dbs
    run_toy(source, target)
    before = {name: fingerprint(client[name]) for name in client.list_database_names()}
    chain, validator = toy()
    report = api.plan(source, chain, validator, target_db=target, batch_size=5)
    after = {name: fingerprint(client[name]) for name in client.list_database_names()}
    assert report["ok"] and before == after
    assert report["collections"]["people"]["delta"] == {
        "new": 0, "changed": 0, "unchanged": 40, "gone": 0}


def test_plan_reports_outcomes_with_ids_and_reasons(dbs):
    _, source, _ = dbs
    chain, validator = toy()
    report = api.plan(source, chain, validator, batch_size=5)
    people = report["collections"]["people"]
    emailless = source.people.find_one({"email": {"$exists": False}})
    assert people["quarantine"] == [{"id": emailless["_id"],
                                     "reason": "Person.email: missing required field"}]
    members = report["collections"]["memberships"]
    assert members["merged"] == len([m for m in members["merges"]]) > 0
    assert all(m["reason"] == "duplicate membership" for m in members["merges"])
    assert report["collections"]["cache"]["drop_reasons"] == {"rebuilt by the application": 5}
    assert report["collections"]["teams"]["drop_reasons"] == {
        "archived teams are not migrated": 1}


def test_run_leaves_the_source_untouched(dbs):
    _, source, target = dbs
    before = fingerprint(source)
    report = run_toy(source, target)
    assert report["ok"], report["verification"]["problems"]
    assert fingerprint(source) == before


def test_counts_reconcile_and_quarantine_keeps_the_original(dbs):
    _, source, target = dbs
    report = run_toy(source, target)
    for entry in report["collections"].values():
        assert entry["documents"] == source[entry["source"]].count_documents({})
        assert entry["documents"] == (entry["written"] + entry["merged"] +
                                      entry["quarantined"] + entry["dropped"])
    quarantined = sum(e["quarantined"] for e in report["collections"].values())
    assert quarantined == target["_quarantine"].count_documents({}) == 3
    for record in target["_quarantine"].find():
        original = source[record["collection"]].find_one({"_id": record["sourceId"]})
        if "pin" in original:  # a secret the rule redacts: only its digest reaches the target
            assert record["document"]["pin"] == \
                "sha256:" + hashlib.sha256(original["pin"].encode()).hexdigest()
            original["pin"] = record["document"]["pin"]
        assert record["document"] == original and record["reason"]
    assert not target["_quarantine"].find_one({"document.pin": {"$regex": "^secret"}})


def test_transformed_documents(dbs):
    _, source, target = dbs
    run_toy(source, target)
    boss = source.people.find_one({"role": "boss", "email": {"$exists": True}})
    person = target.Person.find_one({"_id": boss["_id"]})
    assert person["role"] == "ADMIN" and "legacy" not in person
    assert isinstance(person["joinedAt"], dt.datetime)
    # comments referenced by ObjectId or by its hex string are embedded, in order
    for post in source.posts.find():
        expected = source.comments.count_documents({"post": {"$in": [post["_id"],
                                                                      str(post["_id"])]}})
        assert len(target.Post.find_one({"_id": post["_id"]})["comments"]) == expected
    # duplicates merged into one member: active if any was, earliest since
    ghost = target.Person.find_one({"_id": toy_chain.ghost_id()})
    assert ghost["name"] == "Ghost"
    indexes = target.Member.index_information()
    assert indexes["Member_teamId_personId_key"]["unique"]


def test_second_run_writes_nothing(dbs):
    _, source, target = dbs
    first = run_toy(source, target)
    hashes = data_hashes(target)
    second = run_toy(source, target)
    assert writes(first) > 0 and writes(second) == 0
    assert data_hashes(target) == hashes
    assert second["verification"]["hashes"] == first["verification"]["hashes"]


# Also on DocumentDB (tests/conftest.py): the delta pass, beside the modules that run there whole.
@pytest.mark.servers("ferretdb", "documentdb")
def test_delta_equals_a_fresh_full_migration(dbs, fresh_db):
    client, source, target = dbs
    run_toy(source, target)
    source.people.update_one({"name": "person 5"}, {"$set": {"name": "renamed"}})
    source.people.insert_one({"name": "new", "email": "new@x", "joined": "2024-05-01T00:00:00"})
    source.posts.delete_one({"body": "post 3"})
    post = source.posts.find_one({"body": "post 4"})
    source.comments.insert_one({"post": post["_id"], "text": "late", "at": "2025-01-01T00:00:00"})
    with_email = source.people.distinct("_id", {"email": {"$exists": True}})
    # every membership mapped to the shared Ghost goes: the Ghost loses all its producers
    source.memberships.delete_many({"person": {"$nin": with_email}})
    source.posts.delete_many({"author": {"$nin": with_email}})
    delta = run_toy(source, target)
    fresh = client[fresh_db("fresh")]
    full = run_toy(source, fresh, batch_size=3)
    assert delta["ok"] and full["ok"], delta["verification"]["problems"]
    assert data_hashes(target) == data_hashes(fresh)
    assert 0 < writes(delta) < writes(full) / 4
    assert target.Person.find_one({"_id": toy_chain.ghost_id()}) is None


def test_shared_placeholder_survives_while_one_producer_remains(dbs):
    _, source, target = dbs
    run_toy(source, target)
    ghosts = [m for m in source.memberships.find()
              if source.people.count_documents({"_id": m["person"],
                                                "email": {"$exists": True}}) == 0
              and source.teams.count_documents({"_id": m["team"]})]
    assert len(ghosts) >= 2
    source.memberships.delete_one({"_id": ghosts[0]["_id"]})
    source.posts.delete_many({"author": ghosts[0]["person"]})
    assert run_toy(source, target)["ok"]
    assert target.Person.find_one({"_id": toy_chain.ghost_id()}) is not None


def test_to_step_applies_a_prefix_and_status_tells(dbs):
    _, source, target = dbs
    report = run_toy(source, target, to="0002-teams")
    assert report["ok"] and report["steps"] == ["0001-people", "0002-teams"]
    assert "Member" not in target.list_collection_names()
    status = api.status(target, toy()[0])
    assert [s["step"] for s in status["applied"]] == ["0001-people", "0002-teams"]
    assert status["pending"] == ["0003-members", "0004-posts"]
    assert run_toy(source, target)["ok"]
    assert api.status(target, toy()[0])["pending"] == []


def test_an_interrupted_run_resumes_to_the_same_result(dbs, fresh_db, monkeypatch):
    client, source, target = dbs
    reference = client[fresh_db("ref")]
    run_toy(source, reference)
    real = writer.apply_batch
    calls = {"n": 0}

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 9:
            raise RuntimeError("simulated crash")
        return real(*args, **kwargs)

    monkeypatch.setattr("migration.engine.runner.apply_batch", failing)
    with pytest.raises(RuntimeError):
        run_toy(source, target)
    assert api.status(target)["run"]["state"] == "running"
    monkeypatch.setattr("migration.engine.runner.apply_batch", real)
    resumed = run_toy(source, target)
    assert resumed["resumed"] and resumed["ok"]
    assert data_hashes(target) == data_hashes(reference)
    assert writes(run_toy(source, target)) == 0  # the ledger survived the crash intact
