"""switch, history and rollback through `python -m ops`, on the real Pulumi engine.

The stack is tests/e2e/project: the real release components (backup, migration, health gate)
in external-database mode against a FerretDB on loopback (the containers are
tests/e2e/test_docker_platform.py's), run by the language host and pulumi-command. Every update
is a real `pulumi up` with a file backend; every backup a real
mongodump archive, every restore a real mongorestore, the migration the real `python -m
migration run` over generated legacy data with production's shape and defects.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from bson import ObjectId

from legacy_data.dataset import expected_counts, insert_legacy_dataset
from steps.backup_manifest import load_manifest
from steps.digest import compare, database_digests
from testing.ferretdb import FerretDB, tools_dir
from tests.e2e.stackbed import HealthServer, StackBed

pytestmark = pytest.mark.e2e

# 0.05 of production's counts (~6.3k documents over 31 collections): every collection and
# every defect present, and the whole module runs in a few minutes on two cores.
SCALE = 0.05
MIGRATION_PHASES = ["backup-and-migrate", "release", "maintenance-off"]
PLAIN_PHASES = ["backup", "release", "maintenance-off"]


def _require_tools() -> None:
    missing = [name for name in ("pulumi", "ferretdb", "mongodump", "mongorestore",
                                 "pulumi-language-python")
               if not (tools_dir() / "bin" / name).is_file()]
    if missing:
        pytest.fail(f"not built: {', '.join(missing)} in {tools_dir() / 'bin'}; run "
                    "tools/bootstrap.sh test", pytrace=False)


@pytest.fixture
def bed(tmp_path):
    _require_tools()
    with FerretDB() as server:
        client = server.client()
        junk = []

        def new_release_writes_on_start(n: int) -> None:
            junk.append(client.meeshy_v2.Notification.insert_one(
                {"_id": ObjectId(), "type": "startup-junk", "n": n}).inserted_id)

        with HealthServer(new_release_writes_on_start) as health:
            insert_legacy_dataset(client.meeshy, seed=1, scale=SCALE)
            bed = StackBed(tmp_path, server.uri(), health)
            bed.client, bed.junk = client, junk
            bed.init_stack()
            yield bed
            client.close()


def _deploy_r1(bed) -> int:
    bed.write_stack_file(bed.config(release="2026.01.0", database="meeshy", migration=False))
    code, result, output = bed.ops("deploy", "production", report="deploy")
    assert result["ok"], output
    return result["version"]


def _deploy_r1_with_the_cli(bed) -> int:
    """An operator's own `pulumi up`: ops must be able to roll back to it from the history."""
    bed.write_stack_file(bed.config(release="2026.01.0", database="meeshy", migration=False))
    bed.pulumi("up", "--yes", "--skip-preview", "--message", "operator: r1 by hand")
    history = json.loads(bed.pulumi("stack", "history", "--json"))
    assert history[0]["message"] == "operator: r1 by hand" and history[0]["result"] == "succeeded"
    return len(history)


def _switch_to_r2(bed) -> dict:
    bed.write_stack_file(bed.config(release="2026.02.0", database="meeshy_v2", migration=True))
    _, report, output = bed.ops("switch", "production", "--yes", report="switch-r2")
    print(output)
    return report


def _phase_table(report: dict) -> str:
    rows = [f"{p['name']:<20} {p['seconds']:>7.2f} s  steps={p.get('steps')}" for p in report["phases"]]
    window = report.get("writeUnavailability") or {}
    rows.append(f"write-unavailability window {window.get('seconds')} s; total {report['seconds']} s")
    return "\n".join(rows)


def _assert_two_backups_of_the_legacy_data(report: dict, legacy_before: dict) -> list:
    """Two backups of the legacy database: before the pre-copy, and after the window the
    archive of the state fingerprinted under maintenance (the exact pre-switch data)."""
    backups = report["backups"]["meeshy"]
    assert [b["phase"] for b in backups] == ["backup-and-migrate", "after-window"]
    assert report["frozenBackups"]["meeshy"]["equalsFingerprint"] is True
    assert report["backupsUnderMaintenance"] == {"meeshy": backups[1]["backupId"]}
    for backup in backups:
        manifest = load_manifest(backup["archive"])
        assert manifest["sha256"] == backup["sha256"] and manifest["sizeBytes"] > 0
        assert compare(manifest["collections"], legacy_before) == []
        assert manifest["documents"] == sum(expected_counts(1, SCALE).values())
    return backups


def _assert_history_shows_the_switch(bed, r1_version: int, backups: list) -> None:
    """ops' history and the CLI's `pulumi stack history` both show the switch's updates."""
    _, rows, output = bed.ops("history", "production", report="history")
    snapshots = [r for r in rows if r["snapshot"]]
    assert [(r["release"], r["databaseName"]) for r in snapshots] == [
        ("2026.02.0", "meeshy_v2"), ("2026.01.0", "meeshy")]
    assert snapshots[-1]["version"] == r1_version
    assert snapshots[0]["backupId"] == backups[0]["backupId"]   # the release's own backup
    assert [r["phase"] for r in rows[:len(MIGRATION_PHASES)]] == list(reversed(MIGRATION_PHASES))
    assert all(r["result"] == "succeeded" for r in rows)
    assert "2026.02.0" in output and "meeshy_v2" in output

    # The same updates, as the CLI shows them: ops drives the project's own stack.
    cli_history = json.loads(bed.pulumi("stack", "history", "--json"))
    assert ([h["message"].split()[-1] for h in cli_history[:len(MIGRATION_PHASES)]]
            == list(reversed(MIGRATION_PHASES)))
    assert all(h["message"].startswith("meeshy-ops ") for h in cli_history)


def test_switch_backs_up_migrates_passes_the_gate_and_history_shows_it(bed):
    r1_version = _deploy_r1(bed)
    legacy_before = database_digests(bed.client, "meeshy")

    report = _switch_to_r2(bed)
    print("switch report phases:\n" + _phase_table(report))
    Path("reports").mkdir(exist_ok=True)
    shutil.copyfile(report["reportPath"], "reports/e2e-switch-report.json")

    assert report["result"] == "succeeded"
    assert [p["name"] for p in report["phases"]] == MIGRATION_PHASES
    assert all(p["ok"] and p["start"] <= p["end"] and p["seconds"] > 0 for p in report["phases"])
    steps = {p["name"]: p["steps"] for p in report["phases"]}
    assert {"backup", "migration"} <= set(steps["backup-and-migrate"])
    # The release: the delta pass, its baseline and the gate, in one update; no dump inside it.
    assert {"migration", "baseline", "healthGate"} <= set(steps["release"])
    assert "backup" not in steps["release"]
    window = report["writeUnavailability"]
    assert 0 < window["seconds"] < report["seconds"]

    backups = _assert_two_backups_of_the_legacy_data(report, legacy_before)

    # Both passes verified; the delta pass had nothing left to write.
    full, delta = report["migration"]["backup-and-migrate"], report["migration"]["release"]
    assert full["summary"]["ok"] and delta["summary"]["ok"]
    assert full["summary"]["totals"]["documents"] == sum(expected_counts(1, SCALE).values())
    assert delta["summary"]["totals"]["inserted"] == 0
    assert full["summary"]["totals"]["inserted"] > 0

    services = report["health"]
    assert set(services) == {"gateway", "translator", "web", "static", "database"}
    assert all(s["healthy"] for s in services.values())

    # The legacy database was only read; the services now use the migrated one.
    assert database_digests(bed.client, "meeshy") == legacy_before
    assert bed.client.meeshy_v2.Participant.count_documents({}) > 0
    stack_file = yaml.safe_load(bed.stack_file.read_text())["config"]
    assert stack_file["meeshy:migration"]["pass"].endswith("-delta")

    _assert_history_shows_the_switch(bed, r1_version, backups)

    assert bed.secret_leaks() == []


def test_failing_switch_rolls_back_exactly_and_rollback_to_an_older_version(bed):
    r1_version = _deploy_r1_with_the_cli(bed)
    legacy_before = database_digests(bed.client, "meeshy")
    assert _switch_to_r2(bed)["result"] == "succeeded"

    # Users write after the go-live; then a release whose gateway never gets healthy.
    bed.client.meeshy_v2.Notification.insert_many(
        [{"_id": ObjectId(), "type": "after-go-live", "n": n} for n in range(3)])
    v2_before = database_digests(bed.client, "meeshy_v2")
    r3 = bed.config(release="2026.03.0", database="meeshy_v2", migration=True, broken=True)
    bed.write_stack_file(r3)
    code, report, output = bed.ops("switch", "production", "--yes", expect=3, report="switch-r3")
    print("failing switch phases:\n" + _phase_table(report))

    assert report["result"] == "rolled back"
    assert [p["name"] for p in report["phases"]] == PLAIN_PHASES[:2]
    assert report["phases"][-1]["ok"] is False
    assert "gateway: HTTP 503" in report["failure"], report["failure"]
    rollback = report["rollback"]
    assert rollback["result"] == "succeeded"
    assert bed.junk, "the failing release never wrote"
    abandoned = rollback["abandonedWrites"]
    assert abandoned["database"] == "meeshy_v2"
    assert abandoned["inserted"] == len(bed.junk) and abandoned["changed"] == len(bed.junk)
    assert Path(abandoned["keptIn"]).is_file()
    assert [r["database"] for r in rollback["restores"]] == ["meeshy_v2"]
    assert rollback["verification"]["meeshy_v2"]["equal"] is True
    assert rollback["health"]["healthy"] is True
    # Pre-switch data exactly, the previous configuration deployed, the operator's edits kept.
    assert database_digests(bed.client, "meeshy_v2") == v2_before
    _, rows, _ = bed.ops("history", "production", report="history-after-r3")
    top = next(r for r in rows if r["snapshot"])
    assert (top["release"], top["databaseName"], top["phase"]) == ("2026.02.0", "meeshy_v2", "reapply")
    assert yaml.safe_load(bed.stack_file.read_text())["config"]["meeshy:release"] == "2026.03.0"

    # Someone damages the legacy data; rollback --to the first release restores it exactly.
    bed.client.meeshy.User.delete_one({})
    code, back, output = bed.ops("rollback", "production", "--to", str(r1_version), "--yes",
                                 report="rollback-r1")
    print(output)
    assert back["result"] == "succeeded" and back["toVersion"] == r1_version
    assert [r["database"] for r in back["restores"]] == ["meeshy"]
    assert back["verification"]["meeshy"]["equal"] is True
    assert database_digests(bed.client, "meeshy") == legacy_before
    lost = back["abandonedWrites"]
    assert (lost["database"], lost["inserted"], lost["updated"], lost["deleted"]) == ("meeshy_v2", 3, 0, 0)
    assert Path(lost["keptIn"]).is_file()
    config = yaml.safe_load(bed.stack_file.read_text())["config"]
    assert (config["meeshy:release"], config["meeshy:database"]["name"]) == ("2026.01.0", "meeshy")
    _, rows, _ = bed.ops("history", "production", report="history-after-rollback")
    top = next(r for r in rows if r["snapshot"])
    assert (top["release"], top["databaseName"]) == ("2026.01.0", "meeshy")
    assert bed.secret_leaks() == []
    json.dumps(back)   # the report is plain JSON


@pytest.fixture
def refusing_gateway(docker_engine, tmp_path):
    """The target gateway stand-in carrying a schema that requires a field no document has, and
    Prisma Client generated from it: the release its own ORM cannot read the data with."""
    import secrets
    import subprocess

    from migration.engine.validation.image_schema import DEFAULT_PATH_IN_IMAGE
    from steps.prisma_read import PATH_IN_GATEWAY_IMAGE
    from testing.prisma import generate_client
    from tests.support.docker_stack import local_images
    from tests.support.schema_variants import schema_requiring_a_new_field

    context = tmp_path / "refusing-gateway"
    context.mkdir()
    schema = context / "schema.prisma"
    schema.write_text(schema_requiring_a_new_field())
    shutil.copytree(generate_client(schema), context / "client")
    tag = f"meeshy-local/gateway:prisma-refusing-{secrets.token_hex(6)}"   # this run's own
    dockerfile = (f"FROM {local_images()['gateway']}\nCOPY schema.prisma {DEFAULT_PATH_IN_IMAGE}\n"
                  f"COPY client {PATH_IN_GATEWAY_IMAGE}\n")
    done = subprocess.run(["docker", "build", "-t", tag, "-f", "-", str(context)], input=dockerfile,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    yield tag
    subprocess.run(["docker", "rmi", tag], capture_output=True, timeout=120)


@pytest.mark.docker
def test_a_pre_copy_the_gateway_images_prisma_refuses_rolls_the_switch_back(bed, refusing_gateway):
    """The new gateway image's own client reads the pre-copy right after backup-and-migrate and
    refuses every User (a required field none has): the switch stops there, before maintenance,
    names model and field, and rolls back to the legacy release with its data untouched."""
    from tests.support.schema_variants import MISSING_FIELD
    _deploy_r1(bed)
    legacy_before = database_digests(bed.client, "meeshy")
    values = bed.config(release="2026.02.0", database="meeshy_v2", migration=True)
    values["meeshy:images"] = {"gateway": refusing_gateway}
    bed.write_stack_file(values)
    _, report, output = bed.ops("switch", "production", "--yes", expect=3, report="switch-refused")
    print("refused switch phases:\n" + _phase_table(report))
    assert report["result"] == "rolled back", output[-3000:]
    assert [p["name"] for p in report["phases"]] == ["backup-and-migrate"]
    users = bed.client.meeshy_v2.User.count_documents({})
    assert f"refused {users} document(s) of model User: field {MISSING_FIELD} (P" in report["failure"]
    assert "prismaPreCopy" not in report and report["rollback"]["result"] == "succeeded"
    assert database_digests(bed.client, "meeshy") == legacy_before
    _, rows, _ = bed.ops("history", "production", report="history-after-refusal")
    top = next(r for r in rows if r["snapshot"])
    assert (top["release"], top["databaseName"]) == ("2026.01.0", "meeshy")
