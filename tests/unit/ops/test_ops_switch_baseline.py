"""The new database's baseline (ops/switch/baseline.py): read on a thread started as the delta
pass's step ends inside the release's update (after it, when the pass ran before it), waited for
before writes reopen, and its failure fails the switch before they do."""
from __future__ import annotations

import threading

from ops import data_ops
from ops.switch import run as switch_module
from tests.support.switch_stand_ins import stand_ins

# test_ops_switch_flow's stand-ins, and its fixtures (deployed, healthy_last_check) shared.
from tests.unit.ops.test_ops_switch_flow import (  # noqa: F401
    FakeRunner,
    deployed,
    doc,
    fake_data_ops,
    healthy_last_check,
)


class StepRunner(FakeRunner):
    """Records each update in `order`; in `steps_in[phase]`, reports those steps done as the
    engine would (on_step_done), then, for a step the baseline follows, waits for it to begin
    and records whether it began while the update still ran."""

    def __init__(self, *args, order: list, steps_in: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.order, self.steps_in, self.baseline_began = order, steps_in, threading.Event()

    def up(self, doc, *, on_step_done=None, **kwargs):
        self.order.append(("up", kwargs["phase"]))
        for step in self.steps_in.get(kwargs["phase"], ()):
            if on_step_done is not None:
                on_step_done(step)
            self.order.append(("baseline began in the update", self.baseline_began.wait(1.0)))
        return super().up(doc, **kwargs)


def _switch(tmp_path, deployed, steps_in):  # noqa: F811
    order = []
    runner = StepRunner(tmp_path, doc("r2", "meeshy_v2", migration=True), order=order,
                        steps_in=steps_in)

    def baseline(server, database, path, timeout):
        runner.baseline_began.set()
        order.append(("baseline", database))
        return {"documents": 0}

    _, data = fake_data_ops()
    report = switch_module.run_switch(runner, log=lambda m: None,
                                      collaborators=stand_ins(deployed, **{**data, "baseline": baseline}))
    return report, order, runner


def test_the_baseline_starts_as_the_delta_pass_ends_inside_the_release(tmp_path, deployed):  # noqa: F811
    report, order, runner = _switch(tmp_path, deployed, {"release": ["release-migration-run"]})
    assert report["result"] == "succeeded"
    assert order == [("up", "backup-and-migrate"), ("up", "release"), ("baseline", "meeshy_v2"),
                     ("baseline began in the update", True), ("up", "maintenance-off")]
    release = next(p for p in report["phases"] if p["name"] == "release")
    assert "baseline" in release["steps"]
    entry = list(runner.ledger.entries("switch"))[-1]
    assert set(entry["baselines"]) == {"meeshy_v2"}


def test_without_the_pass_in_its_update_the_baseline_is_read_after_it(tmp_path, deployed):  # noqa: F811
    """A resumed release whose delta pass ran before the kill: its step does not run again."""
    report, order, _ = _switch(tmp_path, deployed, {"release": ["release-gate-check"]})
    assert report["result"] == "succeeded"
    assert order == [("up", "backup-and-migrate"), ("up", "release"),
                     ("baseline began in the update", False), ("baseline", "meeshy_v2"),
                     ("up", "maintenance-off")]


def test_a_failed_baseline_fails_the_switch_before_writes_reopen(tmp_path, deployed):  # noqa: F811
    calls = {}

    def baseline(server, database, path, timeout):
        raise data_ops.DataOperationError("exit 1: connection refused")

    _, data = fake_data_ops()
    runner = FakeRunner(tmp_path, doc("r2", "meeshy_v2", migration=True))
    report = switch_module.run_switch(runner, log=lambda m: None, collaborators=stand_ins(
        deployed, rollback=lambda runner, target, **k: calls.update(k) or {"result": "succeeded"},
        **{**data, "baseline": baseline}))
    assert report["failure"] == "baseline of meeshy_v2 failed: exit 1: connection refused"
    assert [name for name, _ in runner.applied] == ["backup-and-migrate", "release"]
    assert report["result"] == "rolled back" and calls["maintenance_on"] is True
    assert calls["baselines"] == {}
