"""What `run` (and `verify`) refuse before any write, each with one sentence and its exit code:
an uncovered source collection, an empty or missing source, a target holding documents this
migration did not write, an `_id` that is an embedded document, a damaged `_migrations`
record, `--to` an earlier step than the target has, an unknown URI option."""
import json

import pytest
from bson import ObjectId

from tests.support.cli_runner import assert_sentence, migration_cli
from tests.support.migration_helpers import fingerprint


def _run(source_uri, target_uri, *extra):
    return migration_cli("run", "--source", source_uri, "--target", target_uri, *extra)


def test_an_uncovered_source_collection_is_refused_by_run_and_verify(toy_dbs):
    client, source, target, source_uri, target_uri = toy_dbs
    assert _run(source_uri, target_uri).returncode == 0
    before = fingerprint(target)
    source.SomethingNew.insert_one({"x": 1})
    assert_sentence(_run(source_uri, target_uri), 3, "SomethingNew", "nothing was written")
    assert fingerprint(target) == before
    result = migration_cli("verify", "--source", source_uri, "--target", target_uri)
    assert result.returncode == 3 and "SomethingNew" in result.stdout


@pytest.mark.parametrize("make", ["missing", "empty"])
def test_an_empty_or_missing_source_is_refused_unless_allowed(toy_dbs, fresh_db, make):
    client, _, target, _, target_uri = toy_dbs
    empty = client[fresh_db("nosuchdb")]
    if make == "empty":
        empty.create_collection("people")
    uri = target_uri.rsplit("/", 1)[0] + "/" + empty.name
    words = "has no collections" if make == "missing" else "holds no documents"
    assert_sentence(_run(uri, target_uri), 3, words, "--allow-empty-source")
    assert target.name not in client.list_database_names()
    assert _run(uri, target_uri, "--allow-empty-source").returncode == 0


def test_a_target_with_foreign_documents_is_refused_before_any_write(toy_dbs):
    client, source, target, source_uri, target_uri = toy_dbs
    target.Person.insert_one({"_id": source.people.find_one()["_id"], "name": "not ours"})
    target.Unrelated.insert_one({"x": 1})
    before = fingerprint(target)
    assert_sentence(_run(source_uri, target_uri), 3, "Person (1)", "Unrelated (1)", "not empty")
    assert fingerprint(target) == before


def test_documents_added_after_a_run_are_refused_by_the_next(toy_dbs):
    _, _, target, source_uri, target_uri = toy_dbs
    assert _run(source_uri, target_uri).returncode == 0
    target.Post.insert_one({"_id": ObjectId(), "body": "written by someone else"})
    target.Stray.insert_one({"x": 1})
    before = fingerprint(target)
    assert_sentence(_run(source_uri, target_uri), 3, "Post (1 document(s))", "Stray (1)",
             "did not write")
    assert fingerprint(target) == before


@pytest.mark.parametrize("verb", ["plan", "run"])
def test_an_embedded_document_id_is_a_sentence(toy_dbs, verb):
    _, source, _, source_uri, target_uri = toy_dbs
    source.people.insert_one({"_id": {"a": 1}, "name": "x", "email": "x@example.org",
                              "joined": "2024-01-01"})
    result = migration_cli(verb, "--source", source_uri, "--target", target_uri)
    assert_sentence(result, 3, "{'a': 1}", "embedded document")


@pytest.mark.parametrize("record, change, words", [
    ("run", {"number": "seven"}, "number is 'seven'"),
    ("run", {"state": "exploded"}, "state is 'exploded'"),
    ("progress:people", {"counts.documents": "many"}, "counts.documents is 'many'"),
])
def test_a_damaged_migrations_record_is_a_sentence(toy_dbs, record, change, words):
    _, _, target, source_uri, target_uri = toy_dbs
    assert _run(source_uri, target_uri).returncode == 0
    target["_migrations"].update_one({"_id": record}, {"$set": change})
    assert_sentence(_run(source_uri, target_uri), 3, "damaged", words)
    assert_sentence(migration_cli("status", "--target", target_uri), 3, "damaged")


def test_to_an_earlier_step_after_a_full_run_is_refused_and_status_unchanged(toy_dbs, tmp_path):
    _, _, target, source_uri, target_uri = toy_dbs
    assert _run(source_uri, target_uri).returncode == 0
    status = migration_cli("status", "--target", target_uri, "--json", tmp_path / "a.json")
    before = fingerprint(target)
    assert_sentence(_run(source_uri, target_uri, "--to", "0002-teams"), 2,
             "0003-members, 0004-posts", "cannot undo")
    assert fingerprint(target) == before
    again = migration_cli("status", "--target", target_uri, "--json", tmp_path / "b.json")
    assert status.returncode == again.returncode == 0
    first, second = (json.loads((tmp_path / n).read_text()) for n in ("a.json", "b.json"))
    assert first["applied"] == second["applied"] and second["pending"] == []


def test_an_unknown_uri_option_is_an_error(toy_dbs):
    _, _, _, source_uri, target_uri = toy_dbs
    assert_sentence(_run(source_uri, target_uri + "?socketTimeoutMs=5&bogusOption=1"), 2,
             "bogusoption", "not a valid MongoDB URI")
