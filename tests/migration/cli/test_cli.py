"""The command line contract: verbs, URIs, exit codes, JSON report (real FerretDB)."""
import json

import pytest

from tests.support import toy_chain
from tests.support.cli_runner import assert_sentence, migration_cli
from tests.support.migration_helpers import fingerprint


@pytest.fixture
def dbs(ferretdb, fresh_db):
    client = ferretdb.client()
    source_name, target_name = fresh_db("src"), fresh_db("tgt")
    toy_chain.make_source(client[source_name], people=20)
    yield client, ferretdb.uri(source_name), ferretdb.uri(target_name), client[source_name], \
        client[target_name]
    client.close()


def test_plan_run_verify_status(dbs, tmp_path):
    client, source_uri, target_uri, source, target = dbs
    before = fingerprint(source)
    plan = migration_cli("plan", "--source", source_uri, "--target", target_uri,
                         "--json", tmp_path / "plan.json")
    assert plan.returncode == 0, plan.stderr
    assert target.name not in client.list_database_names() or not target.list_collection_names()
    report = json.loads((tmp_path / "plan.json").read_text())
    assert report["collections"]["people"]["quarantine"][0]["reason"] == \
        "Person.email: missing required field"

    run = migration_cli("run", "--source", source_uri, "--target", target_uri,
                        "--json", tmp_path / "run.json")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "run: OK" in run.stdout and "quarantine people" not in run.stderr
    first = json.loads((tmp_path / "run.json").read_text())
    assert first["verification"]["ok"] and first["quarantine"]["documents"] == 3

    again = migration_cli("run", "--source", source_uri, "--target", target_uri,
                          "--json", tmp_path / "again.json")
    second = json.loads((tmp_path / "again.json").read_text())
    assert again.returncode == 0
    assert all(e["inserted"] == e["replaced"] == e["deleted"] == 0
               for e in second["collections"].values())
    assert second["verification"]["hashes"] == first["verification"]["hashes"]
    assert fingerprint(source) == before

    assert migration_cli("verify", "--source", source_uri, "--target", target_uri).returncode == 0
    status = migration_cli("status", "--target", target_uri, "--json", tmp_path / "status.json")
    assert status.returncode == 0 and "applied  0004-posts" in status.stdout
    assert json.loads((tmp_path / "status.json").read_text())["pending"] == []


def test_verification_failure_exits_3(dbs):
    _, source_uri, target_uri, _, target = dbs
    assert migration_cli("run", "--source", source_uri, "--target", target_uri).returncode == 0
    target.Post.delete_one({})
    result = migration_cli("verify", "--source", source_uri, "--target", target_uri)
    assert result.returncode == 3 and "Post: the target holds" in result.stdout


def test_unmapped_source_field_makes_plan_exit_3(dbs):
    _, source_uri, target_uri, source, _ = dbs
    source.people.update_one({}, {"$set": {"unexpected": True}})
    result = migration_cli("plan", "--source", source_uri, "--target", target_uri)
    assert result.returncode == 3 and "people.unexpected" in result.stdout
    result = migration_cli("run", "--source", source_uri, "--target", target_uri)
    assert result.returncode == 3 and "unexpected" in result.stderr


@pytest.mark.parametrize("args, message", [
    (["run", "--source", "{src}", "--target", "{src}"], "same database"),
    (["run", "--source", "{src}", "--target", "{host}"], "names no database"),
    (["run", "--source", "{src}", "--target", "{tgt}", "--to", "0009-nope"],
     "'0009-nope' is not a step"),
    (["run", "--source", "{src}", "--target", "{tgt}", "--schema", "/nonexistent.prisma"],
     "cannot read the schema file"),
    (["plan", "--source", "not-a-uri", "--target", "{tgt}"], "not a valid MongoDB URI"),
    (["run", "--target", "{tgt}"], "--source"),
    (["frobnicate"], "invalid choice"),
])
def test_bad_usage_exits_2(dbs, args, message):
    _, source_uri, target_uri, source, _ = dbs
    host = source_uri.rsplit("/", 1)[0]
    before = fingerprint(source)
    filled = [a.format(src=source_uri, tgt=target_uri, host=host) for a in args]
    result = migration_cli(*filled)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert fingerprint(source) == before


def test_an_error_still_writes_the_json_report(dbs, tmp_path):
    _, source_uri, _, _, _ = dbs
    result = migration_cli("run", "--source", source_uri, "--target", source_uri,
                           "--json", tmp_path / "r.json")
    report = json.loads((tmp_path / "r.json").read_text())
    assert result.returncode == 2 == report["exit_code"]
    assert report["ok"] is False and "same database" in report["error"]


def test_a_schema_without_the_chain_models_exits_2(dbs, tmp_path):
    _, source_uri, target_uri, _, _ = dbs
    schema = tmp_path / "app.prisma"
    schema.write_text('model Person {\n  id String @id @map("_id") @db.ObjectId\n}\n')
    result = migration_cli("plan", "--source", source_uri, "--target", target_uri,
                           "--schema", schema)
    assert result.returncode == 2 and "no model of the schema is stored in" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unreachable_database_exits_1():
    result = migration_cli("plan", "--source", "mongodb://127.0.0.1:9/a",
                           "--target", "mongodb://127.0.0.1:9/b")
    assert result.returncode == 1
    assert "cannot reach the source database" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("seconds", ["0", "-5", "100000"])
def test_a_lease_outside_its_range_is_a_usage_error_before_any_connection(seconds):
    """Each write must finish within half the lease: none at all would stop every write."""
    result = migration_cli("run", "--source", "mongodb://127.0.0.1:1/a", "--target",
                           "mongodb://127.0.0.1:1/b", "--lease-seconds", seconds)
    assert_sentence(result, 2, "--lease-seconds must be a number of seconds")
