"""preview, refresh-staging (before and after production's migration) and the budget's
automatic rollback, on the real Pulumi engine against a FerretDB on loopback (see
test_switch_rollback.py for the set-up)."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml
from bson import ObjectId

from legacy_data.dataset import insert_legacy_dataset
from ops.rehearse.faults import tally
from ops.rehearse.load import LoadGenerator, list_messages, posters
from steps.data_check import archive_document_hashes, id_key, live_document_hashes
from steps.digest import database_digests
from testing.ferretdb import FerretDB
from tests.e2e.stackbed import HealthServer, StackBed
from tests.e2e.test_switch_rollback import SCALE, _deploy_r1, _require_tools, _switch_to_r2
from tests.support.bed_gateway import BedGateway, deployed_release

pytestmark = pytest.mark.e2e


@pytest.fixture
def bed(tmp_path):
    _require_tools()
    with FerretDB() as server, HealthServer() as health:
        client = server.client()
        insert_legacy_dataset(client.meeshy, seed=1, scale=SCALE)
        bed = StackBed(tmp_path, server.uri(), health)
        bed.client = client
        bed.init_stack()
        yield bed
        client.close()


def test_preview_shows_the_diff_and_the_migration_dry_run_and_changes_nothing(bed):
    _deploy_r1(bed)
    _, before, _ = bed.ops("history", "production", report="history-before")
    legacy = database_digests(bed.client, "meeshy")
    bed.write_stack_file(bed.config(release="2026.02.0", database="meeshy_v2", migration=True))
    _, report, output = bed.ops("preview", "production")
    assert report["from"]["release"] == "2026.01.0" and report["to"]["databaseName"] == "meeshy_v2"
    # The final state: backup and gate re-run for the new release; the migration runs only
    # inside the switch's phases, which the preview lists.
    assert report["changes"].get("replace", 0) == 2
    assert "meeshy-production-backup-dump" in report["diff"]
    assert report["switchPhases"] == ["backup-and-migrate", "release", "maintenance-off"]
    plan = report["migration"]
    assert (plan["source"], plan["target"]) == ("meeshy", "meeshy_v2")
    assert "User:" in output and "written" in output        # per-collection dry-run figures
    # The operators' decisions, unset in this stack file: their default, named in the output.
    notifications = bed.client.meeshy.Notification.count_documents({})
    assert plan["decisions"] == {"notifications": "drop", "read-statuses": "migrate"}
    assert plan["droppedByDecision"] == {"Notification": notifications}
    assert f"dropped by decision: Notification {notifications:,}" in output
    # The alternative, set in the stack file, reaches the dry run: Notification is migrated.
    alternative = bed.config(release="2026.02.0", database="meeshy_v2", migration=True)
    alternative["meeshy:migration"]["decisions"] = {"notifications": "migrate",
                                                     "readStatuses": "migrate"}
    bed.write_stack_file(alternative)
    _, other, output = bed.ops("preview", "production", report="preview-alternative")
    assert other["migration"]["decisions"]["notifications"] == "migrate"
    assert other["migration"]["droppedByDecision"] == {}
    assert "dropped by decision" not in output
    assert "notifications=migrate" in output
    # Nothing ran: no update, the legacy data as it was, no migrated database.
    _, after, _ = bed.ops("history", "production", report="history-after")
    assert len(after) == len(before)
    assert database_digests(bed.client, "meeshy") == legacy
    assert database_digests(bed.client, "meeshy_v2") == {}


def test_refresh_staging_restores_production_backup_into_staging_and_migrates(bed):
    _deploy_r1(bed)                                         # its backup is production's latest
    production = database_digests(bed.client, "meeshy")
    bed.init_stack("staging")
    bed.write_stack_file(bed.config(release="2026.02.0-rc1", database="meeshy_staging",
                                    migration=True, source="meeshy_staging",
                                    target="meeshy_staging_v2"))
    _, report, output = bed.ops("refresh-staging", "staging", "--from", "production")
    assert report["result"] == "succeeded", output
    assert report["backup"]["backupId"].startswith("production/meeshy/")
    assert report["restored"] == {"backupId": report["backup"]["backupId"],
                                  "database": "meeshy_staging", "verified": True,
                                  "documents": sum(c["count"] for c in production.values())}
    assert database_digests(bed.client, "meeshy_staging") == production
    assert report["migration"]["exitCode"] == 0
    assert report["migration"]["summary"]["verification"]["ok"] is True
    assert bed.client.meeshy_staging_v2.Participant.count_documents({}) > 0
    assert database_digests(bed.client, "meeshy") == production   # production untouched

    # The rehearsal stack, deployed then torn down; production refuses a teardown.
    bed.ops("deploy", "staging", report="deploy-staging")
    _, down, _ = bed.ops("teardown", "staging", "--yes", report="teardown-staging")
    assert down["result"] == "succeeded" and down["resourceChanges"].get("delete", 0) >= 4
    code, _, output = bed.ops("teardown", "production", "--yes", expect=None, report="teardown-prod")
    assert code != 0 and "refusing to tear down production" in output


STAGING_SOURCE, STAGING_TARGET = "meeshy_staging", "meeshy_staging_v2"


def test_refresh_staging_after_production_migrated_restores_into_the_target_unmigrated(bed):
    """Production switched to the migrated schema under load (refresh-staging first refuses,
    naming why: the switch does not back the new database up), then released once more: its
    latest backup, of `meeshy_v2`, goes into staging's target database, the one staging's
    services use, and is not migrated again. Staging's gate asks a gateway health endpoint
    that answers 200 only while that database holds messages; staging's gateway then serves
    the backup's documents by id, none of the writes production took after the backup;
    production loses no acknowledged write."""
    (bed.root / "staging-gateway").mkdir()
    data_health = HealthServer(
        probe=lambda: bed.client[STAGING_TARGET].Message.estimated_document_count() > 0)
    with BedGateway(bed.database_uri, bed.state, folder=bed.root,
                    program=bed.project) as gateway, data_health, \
            BedGateway(bed.database_uri, bed.state, stack="staging", legacy=STAGING_SOURCE,
                       folder=bed.root / "staging-gateway", program=bed.project) as staging_gateway:
        _deploy_r1(bed)
        load = LoadGenerator(gateway.port, "bed.localhost", posters(bed.client.meeshy, limit=4),
                             tag="refresh", threads=1, interval_seconds=0.1, max_seconds=600).start()
        try:
            assert _switch_to_r2(bed)["result"] == "succeeded"
            # Right after the switch no backup of meeshy_v2 exists, and refresh-staging says so.
            bed.init_stack("staging")
            staging = bed.config(release="2026.02.0-rc1", database=STAGING_TARGET, migration=True,
                                 source=STAGING_SOURCE, target=STAGING_TARGET)
            staging["meeshy:healthGate"]["endpoints"] = data_health.endpoints()
            bed.write_stack_file(staging)
            _, _, early = bed.ops("refresh-staging", "staging", "--from", "production", expect=1,
                                  report="refresh-early")
            assert "no backup of meeshy_v2" in early and "takes its first backup" in early, early
            # Production's next release backs its migrated database up.
            bed.stack = "production"
            bed.write_stack_file(bed.config(release="2026.02.1", database="meeshy_v2", migration=True))
            bed.ops("deploy", "production", report="deploy-r3")
            bed.stack = "staging"
            _, refreshed, output = bed.ops("refresh-staging", "staging", "--from", "production")
            _, deployed, deploy_output = bed.ops("deploy", "staging", report="deploy-staging")
            reader = LoadGenerator(staging_gateway.port, "staging.localhost", load.pairs, tag="reader")
            served = [list_messages(reader, str(conversation)) for conversation, _ in load.pairs]
        finally:
            writes = load.stop()
    assert refreshed["result"] == "succeeded", output[-3000:]
    assert refreshed["backup"]["backupId"].startswith("production/meeshy_v2/"), refreshed["backup"]
    assert refreshed["restored"]["database"] == STAGING_TARGET and refreshed["restored"]["verified"]
    assert refreshed["migration"] is None and "not migrated again" in output, output[-2000:]
    assert STAGING_SOURCE not in bed.client.list_database_names()    # no copy there, no migration
    assert deployed["ok"], deploy_output[-3000:]
    release = deployed_release(bed.state, "meeshy", "staging")
    assert release["databaseName"] == STAGING_TARGET and release["maintenance"] is False, release
    assert any(r.startswith("/health") for r in data_health.requests), "the gate never asked"
    # Every document of the backup, by id and content, in the database staging serves.
    archive = archive_document_hashes(Path(refreshed["backup"]["archive"]), "meeshy_v2")
    assert live_document_hashes(bed.client, STAGING_TARGET) == archive
    listed = {m["id"] for status, messages in served for m in messages}
    assert [status for status, _ in served] == [200] * len(served) and listed, served
    assert all(id_key(ObjectId(i)) in archive["Message"] for i in listed)
    later = {w.message_id for w in writes if w.outcome == "acknowledged"
             and id_key(ObjectId(w.message_id)) not in archive["Message"]}
    assert later and not later & listed      # production's later writes exist, and are not staging's
    counted = tally(bed.client.meeshy_v2, writes, set())
    assert counted["acknowledged"] > 0 and counted["lost"] == 0, counted


def test_a_switch_over_its_budget_is_interrupted_and_rolled_back(bed):
    _deploy_r1(bed)
    before = database_digests(bed.client, "meeshy")
    # A release whose gate would wait 300 s: the 45 s budget runs out first.
    slow = bed.config(release="2026.01.1", database="meeshy", migration=False, broken=True,
                      gate_deadline=300)
    bed.write_stack_file(slow)
    started = time.monotonic()
    code, report, output = bed.ops("switch", "production", "--yes", "--budget", "45",
                                   expect=3, report="switch-overrun")
    elapsed = time.monotonic() - started
    assert elapsed < 240, f"the budget did not stop the switch ({elapsed:.0f} s)\n{output[-3000:]}"
    assert report["result"] == "rolled back", output[-3000:]
    # Interrupted inside a phase, or (on a slow machine) stopped before the next one.
    failure = report["failure"]
    assert "overran its budget" in failure or failure.startswith("budget of 45 s used up"), failure
    assert report["phases"][-1]["name"] in ("backup", "release")
    assert report["rollback"]["result"] == "succeeded"
    assert report["rollback"]["verification"]["meeshy"]["equal"] is True
    assert database_digests(bed.client, "meeshy") == before
    _, rows, _ = bed.ops("history", "production", report="history")
    top = next(r for r in rows if r["snapshot"])
    assert (top["release"], top["phase"]) == ("2026.01.0", "reapply")
    assert yaml.safe_load(bed.stack_file.read_text())["config"]["meeshy:release"] == "2026.01.1"
