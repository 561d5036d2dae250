"""The new database's baseline (ops/switch/baseline.py): read on a thread beside the release
phase, waited for before writes reopen, and its failure fails the switch before they do."""
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


class OrderedRunner(FakeRunner):
    """Records each update as it begins in `order`, and sets `began[phase]`."""

    def __init__(self, *args, order: list, **kwargs):
        super().__init__(*args, **kwargs)
        self.order, self.began = order, {}

    def up(self, doc, **kwargs):
        self.order.append(("up", kwargs["phase"]))
        self.began.setdefault(kwargs["phase"], threading.Event()).set()
        return super().up(doc, **kwargs)


def test_the_baseline_is_read_beside_the_release_and_done_before_writes_reopen(tmp_path, deployed):  # noqa: F811
    order = []
    runner = OrderedRunner(tmp_path, doc("r2", "meeshy_v2", migration=True), order=order)
    runner.began["release"] = threading.Event()

    def baseline(server, database, path, timeout):
        # Taken between the delta pass and the release, it would wait here in vain.
        order.append(("baseline", database, runner.began["release"].wait(10)))
        return {"documents": 0}

    _, data = fake_data_ops()
    report = switch_module.run_switch(runner, log=lambda m: None,
                                      collaborators=stand_ins(deployed, **{**data, "baseline": baseline}))
    assert report["result"] == "succeeded"
    assert order == [("up", "backup-and-migrate"), ("up", "delta-migration"), ("up", "release"),
                     ("baseline", "meeshy_v2", True), ("up", "maintenance-off")]
    delta = next(p for p in report["phases"] if p["name"] == "delta-migration")
    assert "baseline" in delta["steps"]
    entry = list(runner.ledger.entries("switch"))[-1]
    assert set(entry["baselines"]) == {"meeshy_v2"}


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
    assert [name for name, _ in runner.applied] == ["backup-and-migrate", "delta-migration", "release"]
    assert report["result"] == "rolled back" and calls["maintenance_on"] is True
    assert calls["baselines"] == {}
