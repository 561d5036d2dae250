"""The legacy database of a switch to a migrated database: fingerprinted once the window closed
(before a rollback, when the switch stops in it), archived after the window and checked equal
to the fingerprint; a rollback in the window verifies it against the fingerprint and never
restores an older state silently (stand-in runner and data operations; the real ones run in
tests/e2e)."""
from __future__ import annotations

import pytest

from ops.switch import rollback as rollback_module
from ops.switch import run as switch_module
from testing.clock import FakeClock
from tests.support.switch_stand_ins import stand_ins
from tests.unit.ops.test_ops_switch_flow import LEGACY, FakeRunner, doc, fake_data_ops


@pytest.fixture(autouse=True)
def healthy_last_check(monkeypatch):
    """The switch's last check after maintenance-off answers healthy (the services are stand-ins)."""
    from ops.switch import rollback as rollback_module
    monkeypatch.setattr(rollback_module, "_health", lambda *a, **k: {"healthy": True})


def test_legacy_is_fingerprinted_when_the_window_closes_and_archived_after_it(tmp_path, deployed):
    calls, data = fake_data_ops()
    clock = FakeClock()
    runner = FakeRunner(tmp_path, doc("r2", "meeshy_v2", migration=True), takes=0.01, clock=clock)
    applied_when_read = []
    data["digests"] = lambda server, db, timeout: (
        applied_when_read.append([name for name, _ in runner.applied]) or dict(LEGACY))
    report = switch_module.run_switch(runner, log=lambda m: None,
                                      collaborators=stand_ins(deployed, clock=clock, **data))
    assert report["result"] == "succeeded"
    # Read once the window closed (maintenance-off done), not beside the delta pass nor beside
    # maintenance-off's update, whose start it slowed inside the window.
    assert applied_when_read == [["backup-and-migrate", "release", "maintenance-off"]]
    assert report["frozenBackups"]["meeshy"]["fingerprintSeconds"] >= 0
    # The archive is taken once every phase (maintenance-off included) is done.
    assert calls[-1] == ("backup", report["opId"] + "-frozen")
    frozen = report["frozenBackups"]["meeshy"]
    assert frozen["equalsFingerprint"] is True and frozen["result"] == "succeeded"
    assert report["backupsUnderMaintenance"] == {"meeshy": report["opId"] + "-frozen"}
    entry = list(runner.ledger.entries("switch"))[-1]
    assert entry["backups"]["meeshy"]["archive"].endswith("-frozen.archive.gz")


def test_an_archive_that_differs_from_the_fingerprint_is_reported_and_not_recorded(
        tmp_path, deployed):
    _, data = fake_data_ops(archived={**LEGACY, "Message": {"count": 4, "hash": "m4"}})
    warnings = []
    runner = FakeRunner(tmp_path, doc("r2", "meeshy_v2", migration=True))
    report = switch_module.run_switch(runner, log=warnings.append,
                                      collaborators=stand_ins(deployed, **data))
    frozen = report["frozenBackups"]["meeshy"]
    assert frozen["result"] == "differs" and frozen["problems"]
    assert any("WARNING" in w and "meeshy" in w for w in warnings)
    entry = list(runner.ledger.entries("switch"))[-1]
    assert entry["backups"]["meeshy"]["fingerprint"] is True    # the rollback compares with it
    assert entry["backups"]["meeshy"]["archive"] is None


def test_a_failure_in_the_window_hands_the_fingerprint_to_the_rollback(tmp_path, deployed):
    (calls, data), seen = fake_data_ops(), {}
    # The release (the window's update) failed after its maintenance route was on.
    runner = FakeRunner(tmp_path, doc("r2", "meeshy_v2", migration=True), fail_phase="release",
                        failed_steps=("maintenance-route",))
    report = switch_module.run_switch(runner, log=lambda m: None, collaborators=stand_ins(
        deployed, rollback=lambda runner, target, **kw: seen.update(kw) or {"result": "succeeded"},
        **data))
    assert report["result"] == "rolled back"
    manifest = seen["backups"]["meeshy"]
    assert manifest["fingerprint"] and manifest["collections"] == LEGACY
    assert manifest["preCopyBackup"] is None or manifest["preCopyBackup"].endswith(".gz")
    assert not any(kind == "backup" for kind, _ in calls)   # no archive after a failed switch


def test_a_rollback_never_restores_when_only_a_fingerprint_exists(tmp_path, deployed):
    # The delta phase failed: the abandoned database is the legacy one, with no archive to
    # count writes against.
    restored = []
    collaborators = stand_ins(
        deployed, changes_since=lambda *a, **k: pytest.fail("no archive to count writes against"),
        digests=lambda *a, **k: {**LEGACY, "User": {"count": 3, "hash": "u3"}},
        restore=lambda *a, **k: restored.append(a))
    runner = FakeRunner(tmp_path, doc("r2", "meeshy_v2", migration=True))
    fingerprint = {"backupId": "sw-fingerprint", "database": "meeshy", "archive": None,
                   "fingerprint": True, "collections": LEGACY, "documents": 5,
                   "preCopyBackup": "/b/pre.archive.gz"}
    with pytest.raises(rollback_module.RollbackFailed,
                       match="differs from its fingerprint under maintenance.*/b/pre.archive.gz"):
        rollback_module.rollback(runner, deployed, reason="test", current_doc=doc("r2", "meeshy"),
                                 maintenance_on=True, backups={"meeshy": fingerprint},
                                 baselines={}, collaborators=collaborators)
    assert restored == []


def test_the_newest_backup_is_never_a_fingerprint_without_an_archive(tmp_path):
    from ops.automation.ledger import Ledger
    ledger = Ledger(tmp_path)
    ledger.append({"kind": "switch", "result": "succeeded",
                   "backups": {"meeshy": {"backupId": "a", "archive": "/b/a.archive.gz"}}})
    ledger.append({"kind": "switch", "result": "succeeded",
                   "backups": {"meeshy": {"backupId": "sw-fingerprint", "archive": None,
                                          "fingerprint": True}}})
    assert ledger.latest_backup("meeshy")["backupId"] == "a"


def test_a_rollback_in_the_window_verifies_legacy_against_the_fingerprint(tmp_path, deployed):
    collaborators = stand_ins(
        deployed, digests=lambda *a, **k: dict(LEGACY),
        restore=lambda *a, **k: pytest.fail("an equal database is never restored"),
        health_gate=lambda *a, **k: {"healthy": True})
    runner = FakeRunner(tmp_path, doc("r2", "meeshy_v2", migration=True))
    fingerprint = {"backupId": "sw-fingerprint", "database": "meeshy", "archive": None,
                   "fingerprint": True, "collections": LEGACY, "documents": 5}
    report = rollback_module.rollback(runner, deployed, reason="test",
                                      current_doc=doc("r2", "meeshy"), maintenance_on=True,
                                      backups={"meeshy": fingerprint}, baselines={},
                                      collaborators=collaborators)
    assert report["result"] == "succeeded" and report["restores"] == []
    assert report["verification"]["meeshy"]["equal"] is True
    assert report["abandonedWrites"]["counted"] is False
