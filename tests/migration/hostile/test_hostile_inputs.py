"""Bad files and data that used to give tracebacks, late failures or silent results: each is
now one sentence with its exit code, checked before any work where it can be."""
import json
import os
from pathlib import Path

import bson
import pytest
from bson import ObjectId

from tests.support.cli_runner import assert_sentence, migration_cli

MONGODB_DOCUMENT_LIMIT = 16 * 1024 * 1024


@pytest.mark.parametrize("where, words", [
    ("missing/report.json", "does not exist"),
    ("a-directory", "is a directory"),
])
def test_an_unwritable_json_path_is_refused_before_any_work(toy_dbs, tmp_path, where, words):
    client, _, target, source_uri, target_uri = toy_dbs
    (tmp_path / "a-directory").mkdir()
    result = migration_cli("run", "--source", source_uri, "--target", target_uri,
                           "--json", tmp_path / where)
    assert_sentence(result, 2, "--json", words)
    assert target.name not in client.list_database_names()


@pytest.mark.parametrize("locked", ["mode 0500", "/proc"])
def test_a_read_only_report_directory_is_refused(toy_dbs, tmp_path, locked):
    """A directory of mode 0500 (root may still write there: then the run is not refused, which
    the test accepts only for root) and /proc, where nobody, root included, creates a file."""
    client, _, target, source_uri, target_uri = toy_dbs
    folder = Path("/proc")
    if locked == "mode 0500":
        folder = tmp_path / "locked"
        folder.mkdir(mode=0o500)
    result = migration_cli("run", "--source", source_uri, "--target", target_uri,
                           "--json", folder / "r.json")
    if locked == "mode 0500" and os.geteuid() == 0:
        assert result.returncode == 0 and (folder / "r.json").is_file(), result.stderr
        return
    assert_sentence(result, 2, "not writable")
    assert target.name not in client.list_database_names()


def _fifo(tmp_path):
    path = tmp_path / "schema.fifo"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("make, words", [
    (lambda tmp: tmp.joinpath("latin1.prisma").write_bytes(b"model Caf\xe9 {}\n") and
     tmp / "latin1.prisma", "is not UTF-8 text"),
    (lambda tmp: "/dev/zero", "not a regular file"),
    (_fifo, "not a regular file"),
])
def test_a_schema_that_is_not_a_text_file_is_exit_2(toy_dbs, tmp_path, make, words):
    _, _, _, source_uri, target_uri = toy_dbs
    result = migration_cli("plan", "--source", source_uri, "--target", target_uri,
                           "--schema", make(tmp_path), timeout=30)
    assert_sentence(result, 2, words)


def test_a_collection_quarantined_above_the_ratio_fails(toy_dbs, tmp_path):
    _, source, _, source_uri, target_uri = toy_dbs
    orphans = source.comments.update_many({}, {"$set": {"post": ObjectId()}}).modified_count
    result = migration_cli("run", "--source", source_uri, "--target", target_uri)
    assert result.returncode == 3, result.stdout + result.stderr
    assert f"comments: {orphans} of {orphans} documents (100%) were quarantined" in result.stdout
    relaxed = migration_cli("run", "--source", source_uri, "--target", target_uri,
                            "--max-quarantine-ratio", "1")
    assert relaxed.returncode == 0, relaxed.stdout + relaxed.stderr
    verify = migration_cli("verify", "--source", source_uri, "--target", target_uri)
    assert verify.returncode == 3 and "--max-quarantine-ratio 0.5" in verify.stdout


def test_a_quarantine_record_stays_under_the_document_limit(toy_dbs):
    _, source, target, source_uri, target_uri = toy_dbs
    big = source.people.find_one({"email": {"$exists": False}})  # quarantined by the schema
    filler = "x" * (MONGODB_DOCUMENT_LIMIT - len(bson.encode(big)) - 100)
    source.people.update_one({"_id": big["_id"]}, {"$set": {"legacy": filler}})
    result = migration_cli("run", "--source", source_uri, "--target", target_uri)
    assert result.returncode == 0, result.stdout + result.stderr
    record = target["_quarantine"].find_one({"sourceId": big["_id"]})
    assert len(bson.encode(record)) <= MONGODB_DOCUMENT_LIMIT
    assert record["truncated"] is True and record["document"]["name"] == big["name"]
    assert record["document"]["legacy"].startswith("sha256:")


def _same_email(source):
    first, second = source.people.find({"email": {"$exists": True}}).limit(2)
    source.people.update_one({"_id": second["_id"]}, {"$set": {"email": first["email"]}})
    return first, second


def test_a_unique_index_that_cannot_be_built_names_values_and_documents(toy_dbs, tmp_path):
    _, source, _, source_uri, target_uri = toy_dbs
    first, second = _same_email(source)
    result = migration_cli("run", "--source", source_uri, "--target", target_uri,
                           "--json", tmp_path / "r.json")
    assert result.returncode == 3, result.stdout + result.stderr
    problems = json.loads((tmp_path / "r.json").read_text())["verification"]["problems"]
    assert any(f"email={first['email']!r} in documents" in p and str(first["_id"]) in p
               and str(second["_id"]) in p for p in problems), problems


def test_a_write_refused_by_a_unique_index_names_values_and_documents(toy_dbs):
    _, source, _, source_uri, target_uri = toy_dbs
    assert migration_cli("run", "--source", source_uri, "--target", target_uri).returncode == 0
    first, second = _same_email(source)
    result = migration_cli("run", "--source", source_uri, "--target", target_uri)
    assert_sentence(result, 1, f"writing document {second['_id']} into Person",
              f"already holds email={first['email']!r} in document {first['_id']}")
