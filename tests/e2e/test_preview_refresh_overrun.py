"""preview, refresh-staging and the budget's automatic rollback, on the real Pulumi engine
against a FerretDB on loopback (see test_switch_rollback.py for the set-up)."""
from __future__ import annotations

import time

import pytest
import yaml

from legacy_data.dataset import insert_legacy_dataset
from steps.digest import database_digests
from testing.ferretdb import FerretDB
from tests.e2e.stackbed import HealthServer, StackBed
from tests.e2e.test_switch_rollback import SCALE, _deploy_r1, _require_tools

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
    assert report["switchPhases"] == ["backup-and-migrate", "maintenance-on", "delta-migration",
                                      "release", "maintenance-off"]
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
