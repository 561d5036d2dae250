"""No hang: delta and resumed runs replacing hundreds of documents finish at the default batch
size, and a stalled server becomes one sentence naming the server and the operation.

FerretDB 1.24 never answers one command replacing 100 or more existing documents and then
stalls every later call on that database until it restarts: the stall tests use a FerretDB of
their own so the session's server stays usable.
"""
import json
import time

import pymongo
import pytest
from pymongo import ReplaceOne

from migration.engine.deadlines import DatabaseFailure, operation
from testing.ferretdb import FerretDB
from tests.support import toy_chain
from tests.support.cli_runner import migration_cli
from tests.support.migration_helpers import data_hashes

PEOPLE = 400          # one default-size batch of people: hundreds of replacements in it
RUN_TIMEOUT = 240     # a hang shows up as this subprocess timeout


def _run(source_uri, target_uri, tmp_path, name):
    result = migration_cli("run", "--source", source_uri, "--target", target_uri,
                           "--json", tmp_path / f"{name}.json", timeout=RUN_TIMEOUT)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads((tmp_path / f"{name}.json").read_text())


@pytest.fixture
def migrated(ferretdb, fresh_db, tmp_path):
    client = ferretdb.client()
    source, target = client[fresh_db("src")], client[fresh_db("tgt")]
    toy_chain.make_source(source, people=PEOPLE)
    _run(ferretdb.uri(source.name), ferretdb.uri(target.name), tmp_path, "first")
    yield client, source, target
    client.close()


def _fresh_reference(ferretdb, client, source, fresh_db, tmp_path):
    reference = client[fresh_db("ref")]
    _run(ferretdb.uri(source.name), ferretdb.uri(reference.name), tmp_path, "reference")
    return data_hashes(reference)


def test_a_delta_of_hundreds_of_edits_finishes(ferretdb, fresh_db, migrated, tmp_path):
    client, source, target = migrated
    edited = source.people.update_many({}, {"$set": {"name": "renamed"}}).modified_count
    assert edited == PEOPLE
    report = _run(ferretdb.uri(source.name), ferretdb.uri(target.name), tmp_path, "delta")
    assert report["collections"]["people"]["replaced"] >= edited - 1  # one is quarantined
    assert data_hashes(target) == _fresh_reference(ferretdb, client, source, fresh_db, tmp_path)


def test_a_resume_replacing_hundreds_of_written_documents_finishes(ferretdb, fresh_db,
                                                                   migrated, tmp_path):
    """A run killed after its target writes but before its ledger and checkpoint: the next
    one inserts documents that exist, and must replace them all."""
    client, source, target = migrated
    target.drop_collection("_migrations_ledger.people")
    target["_migrations"].delete_many({"_id": {"$regex": "^(progress|step):"}})
    target["_migrations"].update_one({"_id": "run"}, {"$set": {"state": "running"}})
    report = _run(ferretdb.uri(source.name), ferretdb.uri(target.name), tmp_path, "resume")
    assert report["resumed"] and report["collections"]["people"]["inserted"] == PEOPLE
    assert data_hashes(target) == _fresh_reference(ferretdb, client, source, fresh_db, tmp_path)


@pytest.fixture
def stalled():
    """A FerretDB whose collection stuck._migrations no longer answers."""
    with FerretDB() as server:
        client = server.client()
        stuck = client.stuck["_migrations"]
        stuck.insert_many([{"_id": n, "v": 0} for n in range(150)])
        with pytest.raises(pymongo.errors.NetworkTimeout), pymongo.timeout(2):
            stuck.bulk_write([ReplaceOne({"_id": n}, {"_id": n, "v": 1}) for n in range(150)])
        yield server, client
        client.close()


def test_a_stall_is_an_error_naming_server_and_operation(stalled):
    server, client = stalled
    with pytest.raises(DatabaseFailure) as caught, pymongo.timeout(2), \
            operation("reading _migrations for the test", client.stuck):
        client.stuck["_migrations"].find_one({"_id": 1})
    message = str(caught.value)
    assert f"127.0.0.1:{server.port}" in message and "database stuck" in message
    assert "did not answer" in message and "while reading _migrations for the test" in message


def test_the_cli_gives_up_on_a_stalled_target_within_its_timeout(stalled, tmp_path):
    server, _ = stalled
    started = time.monotonic()
    result = migration_cli("status", "--target", server.uri("stuck"), "--timeout", "3",
                           timeout=120)
    assert result.returncode == 1, result.stdout + result.stderr
    assert time.monotonic() - started < 60
    assert f"127.0.0.1:{server.port}" in result.stderr and "did not answer" in result.stderr
    assert "reading the target's _migrations" in result.stderr and "Traceback" not in result.stderr
