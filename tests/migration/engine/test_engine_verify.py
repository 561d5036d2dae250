"""Verification catches what a migration could get wrong (real FerretDB, toy chain)."""
import pytest
from bson import ObjectId

from migration.engine import api
from migration.engine.errors import CoverageError
from tests.support import toy_chain
from tests.support.migration_helpers import fingerprint, run_toy, toy

# The migration's writes, reads and verification on both servers (tests/conftest.py).
pytestmark = pytest.mark.servers("ferretdb", "documentdb")


@pytest.fixture
def migrated(ferretdb, fresh_db):
    client = ferretdb.client()
    source, target = client[fresh_db("src")], client[fresh_db("tgt")]
    toy_chain.make_source(source, people=25)
    assert run_toy(source, target)["ok"]
    yield source, target
    client.close()


def verify(source, target):
    chain, validator = toy()
    return api.verify(source, target, chain, validator)


def test_a_clean_migration_verifies_with_stable_hashes(migrated):
    first, second = verify(*migrated), verify(*migrated)
    assert first["ok"] and first["verification"]["hashes"] == second["verification"]["hashes"]


def test_a_broken_reference_fails(migrated):
    source, target = migrated
    target.Member.update_one({}, {"$set": {"teamId": ObjectId()}})
    problems = verify(source, target)["verification"]["problems"]
    assert any(p.startswith("Member.teamId: 1 document(s) refer to no Squad") for p in problems)


def test_a_scoped_reference_checks_the_scope(migrated):
    source, target = migrated
    member = target.Member.find_one()
    other_team = target.Squad.find_one({"_id": {"$ne": member["teamId"]}})
    target.Post.update_one({"teamId": member["teamId"]}, {"$set": {"teamId": other_team["_id"]}})
    problems = verify(source, target)["verification"]["problems"]
    assert any("Post.authorId: 1 document(s) refer to no Member in the same teamId" in p
               for p in problems), problems


def test_a_lost_target_document_fails_the_counts(migrated):
    source, target = migrated
    target.Post.delete_one({})
    problems = verify(source, target)["verification"]["problems"]
    assert any(p.startswith("Post: the target holds 49 documents, the run wrote 50")
               for p in problems), problems


def test_a_source_changed_since_the_run_fails_the_counts(migrated):
    source, target = migrated
    before = source.teams.count_documents({})
    source.teams.insert_one({"name": "late", "size": 1})
    problems = verify(source, target)["verification"]["problems"]
    assert any(p.startswith(f"teams: the source holds {before + 1} documents, the run "
                            f"accounted for {before}") for p in problems), problems


def test_a_missing_index_fails(migrated):
    source, target = migrated
    target.Person.drop_index("Person_role_joinedAt_idx")
    problems = verify(source, target)["verification"]["problems"]
    assert "index Person_role_joinedAt_idx on Person is missing" in problems


def test_duplicates_under_a_declared_unique_fail_the_run(ferretdb, fresh_db):
    client = ferretdb.client()
    source, target = client[fresh_db("src")], client[fresh_db("tgt")]
    toy_chain.make_source(source, people=10)
    twin = source.people.find_one({"email": {"$exists": True}})
    source.people.insert_one({**twin, "_id": ObjectId()})
    report = run_toy(source, target)
    assert not report["ok"]
    assert any(p.startswith("unique index Person_email_key on Person cannot be built")
               for p in report["verification"]["problems"])


def test_unmapped_source_data_fails_plan_and_stops_run(ferretdb, fresh_db):
    client = ferretdb.client()
    source, target = client[fresh_db("src")], client[fresh_db("tgt")]
    toy_chain.make_source(source, people=10)
    source.people.update_one({}, {"$set": {"surprise": 1}})
    source.create_collection("forgotten")
    chain, validator = toy()
    before = fingerprint(source)
    report = api.plan(source, chain, validator)
    assert not report["ok"]
    assert any(p.startswith("source field people.surprise") for p in report["problems"])
    assert ("source collection forgotten is neither migrated nor dropped by any rule of the "
            "chain") in report["problems"]
    with pytest.raises(CoverageError, match="forgotten"):  # refused before any write
        run_toy(source, target, batch_size=1000)
    assert target.name not in client.list_database_names()
    source.drop_collection("forgotten")
    before = fingerprint(source)
    with pytest.raises(CoverageError, match="surprise"):
        run_toy(source, target, batch_size=1000)
    assert "Person" not in target.list_collection_names() or \
        target.Person.count_documents({}) == 0
    assert fingerprint(source) == before


def test_both_reference_strategies_agree(migrated, monkeypatch):
    from migration.engine.verification import verify as verify_module
    source, target = migrated
    for member in target.Member.find({"active": False}):
        target.Member.update_one({"_id": member["_id"]}, {"$set": {"teamId": ObjectId()}})
    broken = target.Member.count_documents({"active": False})
    chain, _ = toy()
    refs = [r for s in chain.steps for r in s.references]
    by_set = [verify_module.check_reference(target, r) for r in refs]
    monkeypatch.setattr(verify_module, "SET_LIMIT", 0)
    by_merge = [verify_module.check_reference(target, r) for r in refs]
    assert by_set == by_merge
    assert any(f"Member.teamId: {broken} document(s)" in p for group in by_set for p in group)


def test_the_single_read_agrees_with_per_reference_reads_also_past_the_spill(migrated,
                                                                           monkeypatch):
    from migration.engine import keyset
    from migration.engine.process import QUARANTINE
    from migration.engine.runner import written_collections
    from migration.engine.verification import scan as verify_scan
    from migration.engine.verification import verify as verify_module
    source, target = migrated
    for member in target.Member.find({"active": False}):
        target.Member.update_one({"_id": member["_id"]}, {"$set": {"teamId": ObjectId()}})
    chain, _ = toy()
    refs = [r for s in chain.steps for r in s.references]
    collections = written_collections(chain.steps) + [QUARANTINE]
    per_reference = sorted(p for r in refs for p in verify_module.check_reference(target, r))
    hashes, in_memory, _ = verify_scan.scan_all(target, collections, refs, sizes={})
    monkeypatch.setattr(keyset.KeySet.__init__, "__defaults__", (2,))
    spilled_hashes, spilled, _ = verify_scan.scan_all(target, collections, refs, sizes={})
    assert per_reference and sorted(in_memory) == per_reference == sorted(spilled)
    assert hashes == spilled_hashes == {c: verify_module.content_hash(target[c])
                                        for c in collections}


def test_a_wrong_metadata_count_is_confirmed_by_an_exact_count(migrated, monkeypatch):
    from migration.engine.verification import verify as verify_module
    monkeypatch.setattr(verify_module, "metadata_count", lambda collection: 0)
    assert verify(*migrated)["ok"]
