"""The operators' decisions as chain options, on FerretDB: their choices by default (Notification
dropped and said so in plan's report, MessageReadStatus migrated into MessageStatusEntry), the
alternatives when asked, and a wrong --decision refused in one sentence (exit 2)."""
import json

import pytest

from legacy_data.dataset import expected_counts, insert_legacy_dataset
from migration.engine import api
from migration.engine.chain import load_chain
from migration.engine.validation.schema import load_schema
from migration.engine.validation.validator import Validator
from tests.support.cli_runner import migration_cli

SEED, SCALE = 5, 0.02


@pytest.fixture(scope="module")
def legacy(ferretdb):
    client = ferretdb.client()
    insert_legacy_dataset(client["meeshy_decisions_legacy"], SEED, SCALE, batch_size=500)
    yield client, ferretdb.uri("meeshy_decisions_legacy")
    client.close()


def run_with(client, target_name, decisions=None):
    chain = load_chain("migration.meeshy", decisions)
    validator = Validator(load_schema(chain.schema_path))
    source = client["meeshy_decisions_legacy"]
    return api.plan(source, chain, validator), api.run(source, client[target_name], chain, validator)


def test_the_operators_decisions_are_the_default(legacy, fresh_db):
    client, _ = legacy
    target_name = fresh_db("decided")
    planned, report = run_with(client, target_name)
    assert report["ok"], report["verification"]["problems"]
    notifications = expected_counts(SEED, SCALE)["Notification"]
    assert planned["collections"]["Notification"]["drop_reasons"] == {
        "dropped by decision (notifications=drop): about 70% of the documents; the services regenerate "
        "notifications": notifications}
    assert report["collections"]["Notification"]["dropped"] == notifications
    assert "Notification" not in client[target_name].list_collection_names() or \
        client[target_name].Notification.count_documents({}) == 0
    reads = report["collections"]["MessageReadStatus"]
    assert reads["target"] == "MessageStatusEntry" and reads["dropped"] == 0
    assert reads["merged"] + reads["written"] > 0
    assert reads["merged"] + reads["written"] + reads["quarantined"] == reads["documents"]
    entries = client[target_name].MessageStatusEntry
    legacy_reads = {d["_id"]: d for d in client["meeshy_decisions_legacy"].MessageReadStatus.find()}
    for merge in planned["collections"]["MessageReadStatus"]["merges"]:  # folded into a status entry
        entry = entries.find_one({"_id": merge["into"]})
        assert entry["readAt"] <= legacy_reads[merge["id"]]["readAt"]


def test_the_alternatives_migrate_notifications_and_drop_read_statuses(legacy, fresh_db):
    client, _ = legacy
    target_name = fresh_db("alternative")
    planned, report = run_with(client, target_name, {"notifications": "migrate", "read-statuses": "drop"})
    assert report["ok"], report["verification"]["problems"]
    notifications = report["collections"]["Notification"]
    assert notifications["written"] + notifications["quarantined"] == notifications["documents"] > 0
    assert client[target_name].Notification.count_documents({}) == notifications["written"]
    read_statuses = expected_counts(SEED, SCALE)["MessageReadStatus"]
    assert report["collections"]["MessageReadStatus"]["dropped"] == read_statuses
    assert list(planned["collections"]["MessageReadStatus"]["drop_reasons"])[0].startswith(
        "dropped by decision (read-statuses=drop)")


def test_plan_says_what_is_dropped_by_decision(legacy, ferretdb, fresh_db, tmp_path):
    _, source_uri = legacy
    result = migration_cli("plan", "--source", source_uri, "--target", ferretdb.uri(fresh_db("t")),
                           "--json", tmp_path / "plan.json", chain=None)
    assert result.returncode == 0, result.stderr
    count = expected_counts(SEED, SCALE)["Notification"]
    assert f"dropped by decision: Notification {count:,}" in result.stdout
    assert "decisions: notifications=drop, read-statuses=migrate" in result.stdout
    assert json.loads((tmp_path / "plan.json").read_text())["decisions"] == {
        "notifications": "drop", "read-statuses": "migrate"}


def test_a_wrong_decision_is_refused_in_one_sentence(legacy, ferretdb, fresh_db):
    _, source_uri = legacy
    result = migration_cli("plan", "--source", source_uri, "--target", ferretdb.uri(fresh_db("t")),
                           "--decision", "notifications=maybe", "--decision", "colour=red", chain=None)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "unknown decision 'colour'" in result.stderr and "notifications cannot be 'maybe'" in result.stderr
