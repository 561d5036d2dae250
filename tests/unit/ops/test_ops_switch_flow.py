"""run_switch's control flow with a stand-in runner (the real engine runs in tests/e2e): phase
order, the write-unavailability window, the takeover hook, and what a failure triggers."""
from __future__ import annotations

import pytest

from config.release_settings import load_release_settings
from config.stack_file import ConfigDoc
from ops.automation.ledger import Ledger, now_iso
from ops.automation.snapshots import Snapshot
from ops.automation.stack_runner import PhaseResult
from ops.switch import rollback as rollback_module
from ops.switch import run as switch_module
from testing.clock import FakeClock
from tests.support.switch_stand_ins import stand_ins


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

    def __init__(self, tmp_path, desired, fail_phase=None, takes=0.0, clock=None,
                 failed_steps=frozenset()):
        """`takes`: the seconds each update takes on `clock` (a FakeClock: nothing sleeps);
        `failed_steps`: the steps the failing phase began before it failed."""
        assert clock is not None or not takes, "an update that takes time needs a FakeClock"
        self.ledger = Ledger(tmp_path)
        self._desired, self.fail_phase, self.takes, self.clock = desired, fail_phase, takes, clock
        self.failed_steps = frozenset(failed_steps)
        self.applied, self.stack, self.policies = [], FakeStack(), []

    def desired(self):
        return self._desired

    def up(self, doc, *, op_id, phase, snapshot, deadline, policy=True, on_step_done=None):
        self.policies.append((phase, policy))
        stamp = self.clock.now_iso if self.clock is not None else now_iso
        start = stamp()
        if self.clock is not None:
            self.clock.advance(self.takes)
        self.applied.append((phase, doc))
        ok = phase != self.fail_phase
        release = {"release": doc.get_path("meeshy:release"),
                   "databaseName": doc.get_path("meeshy:database.name")}
        return PhaseResult(phase, len(self.applied), ok, start, stamp(), self.takes,
                           {"release": release}, {}, None if ok else "gate failed",
                           begun=frozenset() if ok else self.failed_steps)


@pytest.fixture(autouse=True)
def healthy_last_check(monkeypatch):
    """The last check after maintenance-off answers healthy unless a test gives its own gate."""
    monkeypatch.setattr(rollback_module, "_health", lambda *a, **k: {"healthy": True})


@pytest.fixture
def deployed():
    """The stack's current snapshot, which the tests hand over with stand_ins(deployed)."""
    return Snapshot(1, doc("r1", "meeshy"),
                    load_release_settings("production", doc("r1", "meeshy").plain_values()), "")


# A rollback that succeeds (the switch's own flow is what these tests look at).
ROLLED_BACK = lambda *a, **k: {"result": "succeeded"}  # noqa: E731
LEGACY = {"Message": {"count": 3, "hash": "m3"}, "User": {"count": 2, "hash": "u2"}}


def fake_data_ops(archived=LEGACY) -> tuple[list, dict]:
    """Baseline, fingerprint (digests) and the archive after the window, recorded in order:
    (the calls, the data operations to hand to stand_ins)."""
    calls = []
    return calls, {
        "baseline": lambda *a, **k: {"documents": 0},
        "digests": lambda server, db, timeout: calls.append(("digests", db)) or LEGACY,
        "take_backup": lambda server, settings, db, label, timeout: calls.append(("backup", label))
        or {"backupId": label, "archive": f"/b/{label}.archive.gz", "collections": archived,
            "documents": 5}}


def test_phases_run_in_order_and_the_pass_is_written_back(tmp_path, deployed):
    _, data = fake_data_ops()
    clock = FakeClock()
    runner = FakeRunner(tmp_path, doc("r2", "meeshy_v2", migration=True), takes=0.01, clock=clock)
    report = switch_module.run_switch(runner, log=lambda m: None,
                                      collaborators=stand_ins(deployed, clock=clock, **data))
    assert report["result"] == "succeeded"
    assert [name for name, _ in runner.applied] == ["backup-and-migrate", "release",
                                                    "maintenance-off"]
    assert report["writeUnavailability"]["seconds"] > 0
    # From the start of the release (maintenance on) to the end of maintenance-off: two phases
    # of 0.01 s.
    assert report["writeUnavailability"]["seconds"] == 0.02
    assert report["writeUnavailability"]["start"] == report["phases"][1]["start"]
    assert report["writeUnavailability"]["end"] == report["phases"][2]["end"]
    assert report["seconds"] == 0.03
    assert runner.stack.config == {"meeshy:migration.pass": report["opId"] + "-delta"}
    assert report["toVersion"] == 3
    # The policy pack judged the desired document before; inside the window it would only cost.
    assert runner.policies == [("backup-and-migrate", True), ("release", False),
                               ("maintenance-off", False)]


def test_a_failed_phase_rolls_back_to_the_deployed_snapshot(tmp_path, deployed):
    calls = {}

    def fake_rollback(runner, target, **kwargs):
        calls.update(kwargs, target=target)
        return {"result": "succeeded"}

    runner = FakeRunner(tmp_path, doc("r2", "meeshy"), fail_phase="release")
    report = switch_module.run_switch(runner, log=lambda m: None,
                                      collaborators=stand_ins(deployed, rollback=fake_rollback))
    assert report["result"] == "rolled back" and "phase release failed: gate failed" in report["failure"]
    assert calls["target"] is deployed and calls["maintenance_on"] is True
    assert calls["current_doc"].get_path("meeshy:release") == "r2"
    assert runner.stack.config == {}          # nothing written back after a failure
    entry = list(runner.ledger.entries("switch"))[-1]
    assert entry["result"] == "rolled back" and entry["fromVersion"] == 1


def test_takeover_opens_the_window_and_is_undone_on_failure(tmp_path, deployed):
    order = []
    runner = FakeRunner(tmp_path, doc("r2", "meeshy"), fail_phase="backup")
    report = switch_module.run_switch(
        runner, log=lambda m: None, collaborators=stand_ins(deployed, rollback=ROLLED_BACK),
        takeover=lambda: order.append("takeover") or {"result": "taken over"},
        undo_takeover=lambda: order.append("restore") or {"result": "restored"},
        remove_stack=lambda volumes: order.append("remove-stack") or {"result": "removed"},
        refresh_state=lambda: order.append("refresh") or {"result": "succeeded"})
    assert [p["name"] for p in report["phases"]][:2] == ["takeover", "backup"]
    assert report["writeUnavailability"]["start"] == report["phases"][0]["start"]
    assert order == ["takeover", "remove-stack", "restore", "refresh"]
    assert report["rollback"]["compose"]["result"] == "restored" and report["result"] == "rolled back"


def test_a_failed_takeover_stops_before_any_update(tmp_path, deployed):
    runner = FakeRunner(tmp_path, doc("r2", "meeshy"))

    def refuse():
        raise RuntimeError("compose containers differ from the audit")

    report = switch_module.run_switch(runner, log=lambda m: None, takeover=refuse,
                                      undo_takeover=lambda: {"result": "restored"},
                                      collaborators=stand_ins(deployed, rollback=ROLLED_BACK))
    assert runner.applied == []
    assert report["failure"] == "takeover failed: compose containers differ from the audit"


def test_not_confirmed_changes_nothing(tmp_path, deployed):
    runner = FakeRunner(tmp_path, doc("r2", "meeshy"))
    with pytest.raises(switch_module.SwitchAborted):
        switch_module.run_switch(runner, confirm=lambda summary: False, log=lambda m: None,
                                 collaborators=stand_ins(deployed))
    assert runner.applied == []


def test_an_exhausted_budget_stops_before_the_next_phase(tmp_path, deployed):
    clock = FakeClock()
    runner = FakeRunner(tmp_path, doc("r2", "meeshy"), takes=0.2, clock=clock)
    report = switch_module.run_switch(
        runner, budget_seconds=0.15, log=lambda m: None,
        collaborators=stand_ins(deployed, clock=clock, rollback=ROLLED_BACK))
    assert len(runner.applied) == 1
    assert report["failure"].startswith("budget of 0.15 s used up before phase release")
    assert report["result"] == "rolled back"
    assert [(p["name"], p["seconds"]) for p in report["phases"]] == [("backup", 0.2)]
    assert report["seconds"] == 0.2 and clock.now == 0.2    # nothing slept, nothing ran after


def test_a_budget_not_yet_used_up_lets_the_next_phase_start(tmp_path, deployed):
    clock = FakeClock()
    runner = FakeRunner(tmp_path, doc("r2", "meeshy"), takes=0.2, clock=clock)
    report = switch_module.run_switch(
        runner, budget_seconds=0.3, log=lambda m: None,
        collaborators=stand_ins(deployed, clock=clock, rollback=ROLLED_BACK))
    # 0.2 s used before release: it starts, and overruns; maintenance-off does not start. The
    # window runs from the backup's start (maintenance on) until the rollback has turned
    # maintenance off.
    assert [name for name, _ in runner.applied] == ["backup", "release"]
    assert report["failure"] == "budget of 0.3 s used up before phase maintenance-off"
    assert report["writeUnavailability"]["seconds"] == 0.4


@pytest.mark.parametrize("begun, on", [((), False), (("maintenance-route",), True)])
def test_a_failed_phase_opening_the_window_left_maintenance_on_once_its_route_began(
        tmp_path, deployed, begun, on):
    """Maintenance goes on inside the backup's update: failed before its route's step began,
    the page was never routed (the rollback need not turn it off); failed after, it may be."""
    calls = {}
    runner = FakeRunner(tmp_path, doc("r2", "meeshy"), fail_phase="backup", failed_steps=begun)
    report = switch_module.run_switch(runner, log=lambda m: None, collaborators=stand_ins(
        deployed, rollback=lambda runner, target, **k: calls.update(k) or {"result": "succeeded"}))
    assert report["result"] == "rolled back" and calls["maintenance_on"] is on
    assert report["writeUnavailability"]["start"] == report["phases"][0]["start"]


def test_the_rollback_hands_over_the_switchs_clock(tmp_path, deployed):
    seen = {}
    collaborators = stand_ins(deployed, clock=FakeClock(),
                              rollback=lambda runner, target, **k: seen.update(k) or {})
    switch_module.run_switch(FakeRunner(tmp_path, doc("r2", "meeshy"), fail_phase="release"),
                             log=lambda m: None, collaborators=collaborators)
    assert seen["collaborators"] is collaborators


def test_maintenance_is_switched_off_even_when_the_rollback_fails(tmp_path, deployed):
    def failing_rollback(*args, **kwargs):
        raise switch_module.RollbackFailed("restore failed", {"result": "failed"})

    runner = FakeRunner(tmp_path, doc("r2", "meeshy"), fail_phase="release")
    report = switch_module.run_switch(runner, log=lambda m: None,
                                      collaborators=stand_ins(deployed, rollback=failing_rollback))
    assert report["result"] == "failed, rollback failed"
    phase, final = runner.applied[-1]
    assert phase == "maintenance-off-final" and final.get_path("meeshy:maintenance") is False
    assert final.get_path("meeshy:release") == "r1" and report["maintenanceOff"]["ok"] is True


def test_a_rollback_over_its_budget_stops_before_its_next_step(tmp_path, deployed):
    from ops.switch import rollback as rollback_module

    clock = FakeClock(step=1.0)    # every read of the clock takes a second
    gate = []
    collaborators = stand_ins(deployed, clock=clock,
                              health_gate=lambda *a: gate.append(a) or {"healthy": True})
    runner = FakeRunner(tmp_path, doc("r2", "meeshy"))
    with pytest.raises(rollback_module.RollbackFailed, match="rollback over its 3 s budget") as failed:
        rollback_module.rollback(runner, deployed, reason="test", current_doc=doc("r2", "meeshy"),
                                 maintenance_on=False, backups={}, baselines={}, budget_seconds=3.0,
                                 log=lambda m: None, collaborators=collaborators)
    report = failed.value.report
    assert [p["name"] for p in report["phases"]] == ["reapply", "health-gate"]
    assert gate == [] and [phase for phase, _ in runner.applied] == ["reapply"]
    assert report["result"] == "failed" and report["seconds"] == 6.0
    assert list(runner.ledger.entries("rollback"))[-1]["result"] == "failed"


def test_a_rollback_under_maintenance_ends_it_only_after_the_gate(tmp_path, deployed):
    """The snapshot is applied with maintenance kept on, gated, then applied as recorded: the
    page stays until the re-created containers answer."""
    from ops.switch import rollback as rollback_module

    order = []
    runner = FakeRunner(tmp_path, doc("r2", "meeshy"))
    collaborators = stand_ins(deployed, health_gate=lambda *a: order.append(
        ("gate", len(runner.applied))) or {"healthy": True})
    done = rollback_module.rollback(runner, deployed, reason="test", current_doc=doc("r2", "meeshy"),
                                    maintenance_on=True, backups={}, baselines={},
                                    budget_seconds=60.0, log=lambda m: None,
                                    collaborators=collaborators)
    assert done["result"] == "succeeded"
    applied = [(phase, d.get_path("meeshy:maintenance"), d.get_path("meeshy:release"))
               for phase, d in runner.applied]
    assert applied == [("reapply-in-maintenance", True, "r1"), ("reapply", None, "r1")]  # as recorded
    assert order == [("gate", 1)]       # between the two updates
    assert [p["name"] for p in done["phases"]][-3:] == ["reapply-in-maintenance", "health-gate",
                                                         "reapply"]


def with_gateway(config_doc, image="isopen/meeshy-gateway:2.0.0"):
    return config_doc.with_values({"meeshy:images": {"gateway": image}})


def test_the_pre_copy_is_read_by_the_new_gateway_images_prisma_before_maintenance(
        tmp_path, deployed):
    _, data = fake_data_ops()
    reads = []
    data["prisma_read"] = lambda server, image, db, timeout: reads.append((image, db)) or {
        "prisma": "6.19.3", "documents": 7, "refused": 0, "refusals": []}
    clock = FakeClock()
    runner = FakeRunner(tmp_path, with_gateway(doc("r2", "meeshy_v2", migration=True)), clock=clock)
    report = switch_module.run_switch(runner, log=lambda m: None,
                                      collaborators=stand_ins(deployed, clock=clock, **data))
    assert report["result"] == "succeeded"
    assert reads == [("isopen/meeshy-gateway:2.0.0", "meeshy_v2")]
    assert report["prismaPreCopy"]["documents"] == 7 and report["prismaPreCopy"]["refused"] == 0


def test_a_pre_copy_refused_by_prisma_fails_the_switch_before_maintenance(tmp_path, deployed):
    _, data = fake_data_ops()

    def refuse(server, image, db, timeout):
        raise switch_module.data_ops.DataOperationError(
            "Prisma read failed (exit 3): refused 1 document(s) of model User: field role (P2023)")
    data["prisma_read"] = refuse
    clock = FakeClock()
    runner = FakeRunner(tmp_path, with_gateway(doc("r2", "meeshy_v2", migration=True)), clock=clock)
    report = switch_module.run_switch(runner, log=lambda m: None, collaborators=stand_ins(
        deployed, clock=clock, rollback=ROLLED_BACK, **data))
    assert report["result"] == "rolled back"
    assert "model User: field role (P2023)" in report["failure"]
    assert "maintenance-on" not in [name for name, _ in runner.applied]


def test_a_service_dead_after_maintenance_off_fails_the_switch_and_rolls_back(tmp_path, deployed):
    """The gate passed under maintenance; the last check, once writes reopen, finds the
    gateway gone: the switch is not reported a success."""
    _, data = fake_data_ops()
    rolled = []

    def fake_rollback(runner, target, **kwargs):
        rolled.append(kwargs["reason"])
        return {"result": "succeeded"}

    gate = lambda server, settings, timeout: {"healthy": False, "failures": ["gateway: no answer"]}  # noqa: E731
    runner = FakeRunner(tmp_path, doc("r2", "meeshy"))
    report = switch_module.run_switch(runner, log=lambda m: None, collaborators=stand_ins(
        deployed, health_gate=gate, rollback=fake_rollback, **data))
    assert [p["name"] for p in report["phases"]][-1] == "maintenance-off"
    assert report["lastCheck"]["healthy"] is False
    assert report["result"] == "rolled back" and "gateway: no answer" in report["failure"]
    assert rolled and "last check after maintenance-off" in rolled[0]
