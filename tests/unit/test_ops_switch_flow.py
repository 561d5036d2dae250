"""run_switch's control flow with a stand-in runner (the real engine runs in tests/e2e): phase
order, the write-unavailability window, the takeover hook, and what a failure triggers."""
from __future__ import annotations

import time

import pytest

from config.release_settings import load_release_settings
from config.stack_file import ConfigDoc
from ops.automation.ledger import Ledger, now_iso
from ops.automation.snapshots import Snapshot
from ops.automation.stack_runner import PhaseResult
from ops.switch import run as switch_module


def doc(release, database, migration=False):
    config = {"meeshy:release": release, "meeshy:database": {"name": database},
              "meeshy:backupDir": "/b", "meeshy:externalDatabase": {"uri": "mongodb://127.0.0.1:1"}}
    if migration:
        config["meeshy:migration"] = {"sourceDatabase": "meeshy", "targetDatabase": "meeshy_v2"}
    return ConfigDoc({"encryptionsalt": "v1:x"}, config)


class FakeStack:
    def __init__(self):
        self.config = {}

    def set_config(self, key, value, path=False):
        self.config[key] = value.value


class FakeRunner:
    stack_name = "production"

    def __init__(self, tmp_path, desired, fail_phase=None, sleep=0.0):
        self.ledger = Ledger(tmp_path)
        self._desired, self.fail_phase, self.sleep = desired, fail_phase, sleep
        self.applied, self.stack = [], FakeStack()

    def desired(self):
        return self._desired

    def up(self, doc, *, op_id, phase, snapshot, deadline):
        start = now_iso()
        time.sleep(self.sleep)
        self.applied.append((phase, doc))
        ok = phase != self.fail_phase
        release = {"release": doc.get_path("meeshy:release"),
                   "databaseName": doc.get_path("meeshy:database.name")}
        return PhaseResult(phase, len(self.applied), ok, start, now_iso(), self.sleep,
                           {"release": release}, {}, None if ok else "gate failed")


@pytest.fixture
def deployed(monkeypatch):
    snapshot = Snapshot(1, doc("r1", "meeshy"),
                        load_release_settings("production", doc("r1", "meeshy").plain_values()), "")
    monkeypatch.setattr(switch_module.snapshots, "current", lambda runner: snapshot)
    return snapshot


LEGACY = {"Message": {"count": 3, "hash": "m3"}, "User": {"count": 2, "hash": "u2"}}


def fake_data_ops(monkeypatch, archived=LEGACY) -> list:
    """Baseline, fingerprint (digests) and the archive after the window, recorded in order."""
    calls = []
    monkeypatch.setattr(switch_module.data_ops, "baseline", lambda *a, **k: {"documents": 0})
    monkeypatch.setattr(switch_module.data_ops, "digests",
                        lambda server, db, timeout: calls.append(("digests", db)) or LEGACY)
    monkeypatch.setattr(switch_module.data_ops, "take_backup",
                        lambda server, settings, db, label, timeout: calls.append(("backup", label))
                        or {"backupId": label, "archive": f"/b/{label}.archive.gz",
                            "collections": archived, "documents": 5})
    return calls


def test_phases_run_in_order_and_the_pass_is_written_back(tmp_path, deployed, monkeypatch):
    fake_data_ops(monkeypatch)
    runner = FakeRunner(tmp_path, doc("r2", "meeshy_v2", migration=True), sleep=0.01)
    report = switch_module.run_switch(runner, log=lambda m: None)
    assert report["result"] == "succeeded"
    assert [name for name, _ in runner.applied] == ["backup-and-migrate", "maintenance-on",
                                                    "delta-migration", "release", "maintenance-off"]
    assert report["writeUnavailability"]["seconds"] > 0
    assert runner.stack.config == {"meeshy:migration.pass": report["opId"] + "-delta"}
    assert report["toVersion"] == 5


def test_a_failed_phase_rolls_back_to_the_deployed_snapshot(tmp_path, deployed, monkeypatch):
    calls = {}

    def fake_rollback(runner, target, **kwargs):
        calls.update(kwargs, target=target)
        return {"result": "succeeded"}

    monkeypatch.setattr(switch_module, "rollback", fake_rollback)
    runner = FakeRunner(tmp_path, doc("r2", "meeshy"), fail_phase="release")
    report = switch_module.run_switch(runner, log=lambda m: None)
    assert report["result"] == "rolled back" and "phase release failed: gate failed" in report["failure"]
    assert calls["target"] is deployed and calls["maintenance_on"] is True
    assert calls["current_doc"].get_path("meeshy:release") == "r2"
    assert runner.stack.config == {}          # nothing written back after a failure
    entry = list(runner.ledger.entries("switch"))[-1]
    assert entry["result"] == "rolled back" and entry["fromVersion"] == 1


def test_takeover_opens_the_window_and_is_undone_on_failure(tmp_path, deployed, monkeypatch):
    monkeypatch.setattr(switch_module, "rollback", lambda *a, **k: {"result": "succeeded"})
    order = []
    runner = FakeRunner(tmp_path, doc("r2", "meeshy"), fail_phase="backup")
    report = switch_module.run_switch(
        runner, log=lambda m: None,
        takeover=lambda: order.append("takeover") or {"result": "taken over"},
        undo_takeover=lambda: order.append("restore") or {"result": "restored"},
        remove_stack=lambda volumes: order.append("remove-stack") or {"result": "removed"},
        refresh_state=lambda: order.append("refresh") or {"result": "succeeded"})
    assert [p["name"] for p in report["phases"]][:2] == ["takeover", "maintenance-on"]
    assert report["writeUnavailability"]["start"] == report["phases"][0]["start"]
    assert order == ["takeover", "remove-stack", "restore", "refresh"]
    assert report["rollback"]["compose"]["result"] == "restored" and report["result"] == "rolled back"


def test_a_failed_takeover_stops_before_any_update(tmp_path, deployed, monkeypatch):
    monkeypatch.setattr(switch_module, "rollback", lambda *a, **k: {"result": "succeeded"})
    runner = FakeRunner(tmp_path, doc("r2", "meeshy"))

    def refuse():
        raise RuntimeError("compose containers differ from the audit")

    report = switch_module.run_switch(runner, log=lambda m: None, takeover=refuse,
                                      undo_takeover=lambda: {"result": "restored"})
    assert runner.applied == []
    assert report["failure"] == "takeover failed: compose containers differ from the audit"


def test_not_confirmed_changes_nothing(tmp_path, deployed):
    runner = FakeRunner(tmp_path, doc("r2", "meeshy"))
    with pytest.raises(switch_module.SwitchAborted):
        switch_module.run_switch(runner, confirm=lambda summary: False, log=lambda m: None)
    assert runner.applied == []


def test_an_exhausted_budget_stops_before_the_next_phase(tmp_path, deployed, monkeypatch):
    monkeypatch.setattr(switch_module, "rollback", lambda *a, **k: {"result": "succeeded"})
    runner = FakeRunner(tmp_path, doc("r2", "meeshy"), sleep=0.2)
    report = switch_module.run_switch(runner, budget_seconds=0.3, log=lambda m: None)
    assert len(runner.applied) == 2
    assert report["failure"].startswith("budget of 0.3 s used up before phase release")
    assert report["result"] == "rolled back"


def test_maintenance_is_switched_off_even_when_the_rollback_fails(tmp_path, deployed, monkeypatch):
    def failing_rollback(*args, **kwargs):
        raise switch_module.RollbackFailed("restore failed", {"result": "failed"})

    monkeypatch.setattr(switch_module, "rollback", failing_rollback)
    runner = FakeRunner(tmp_path, doc("r2", "meeshy"), fail_phase="release")
    report = switch_module.run_switch(runner, log=lambda m: None)
    assert report["result"] == "failed, rollback failed"
    phase, final = runner.applied[-1]
    assert phase == "maintenance-off-final" and final.get_path("meeshy:maintenance") is False
    assert final.get_path("meeshy:release") == "r1" and report["maintenanceOff"]["ok"] is True
