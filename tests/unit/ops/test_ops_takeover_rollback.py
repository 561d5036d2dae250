"""`rollback --to-compose` after a takeover switch that succeeded, on fakes (the real one runs on
the engine in tests/e2e/test_takeover_switch_docker.py): the writes of the new production are
counted and kept before anything stops, a failure to keep them stops nothing, and only a
record that really took over is rolled back from."""
from __future__ import annotations

import json

import pytest

from ops import data_ops
from ops.switch import takeover as switch_takeover
from ops.switch import takeover_rollback
from takeover.compose.record import TakeoverError
from tests.support.switch_stand_ins import stand_ins
from tests.unit.ops.test_ops_switch_flow import FakeRunner, doc

TAKEN = {"opId": "takeover-20260125T0300Z", "project": "meeshy", "volumes": ["meeshy_database_data"],
         "result": "taken over"}


@pytest.fixture
def audit_dir(tmp_path):
    folder = tmp_path / "audit"
    folder.mkdir()
    (folder / "takeover-20260125T0300Z.json").write_text(json.dumps(TAKEN))
    (folder / "takeover-20260125T0300Z-restore.json").write_text(json.dumps({"result": "restored"}))
    return folder


@pytest.fixture
def calls(monkeypatch):
    order = []

    def give_back(taken, **steps):
        order.append(("give-back", taken["opId"]))
        return {"result": "restored", "steps": ["remove-stack-containers", "restore", "health-check"]}
    monkeypatch.setattr(switch_takeover, "give_back_to_compose", give_back)
    return order


def test_only_a_record_that_took_over_is_rolled_back_from(audit_dir):
    assert takeover_rollback.takeover_of(audit_dir)["opId"] == TAKEN["opId"]    # never the -restore report
    (audit_dir / "takeover-20260126T0300Z.json").write_text(json.dumps({**TAKEN, "result": "failed"}))
    with pytest.raises(TakeoverError, match="ended 'failed', not 'taken over'"):
        takeover_rollback.takeover_of(audit_dir)


def seam(deployed, order, **data):
    """The collaborators of a rollback to compose: `deployed` current, data operations that
    record their calls in `order` (or those given)."""
    return stand_ins(deployed, **{
        "changes_since": lambda server, db, **k: order.append(("changes", db, str(k["baseline_path"])))
        or {"changed": 2, "inserted": 2, "updated": 0, "deleted": 0},
        "take_backup": lambda server, settings, db, label, **k: order.append(("backup", db))
        or {"archive": f"/b/{label}.archive.gz"}, **data})


def test_writes_since_the_switch_are_counted_and_kept_before_compose_comes_back(tmp_path, deployed, audit_dir,
                                                                               calls):
    runner = FakeRunner(tmp_path / "ledger", doc("r1", "meeshy"))
    runner.ledger.append({"kind": "switch", "result": "succeeded", "baselines": {"meeshy": "/b/old"}})
    runner.ledger.append({"kind": "switch", "result": "succeeded", "baselines": {"meeshy": "/b/new"}})
    report = takeover_rollback.rollback_to_compose(runner, audit_dir, confirm=lambda s: True,
                                                   restore_seconds=60, log=lambda m: None,
                                                   collaborators=seam(deployed, calls))
    assert calls == [("changes", "meeshy", "/b/new"), ("backup", "meeshy"), ("give-back", TAKEN["opId"])]
    assert report["result"] == "restored"
    assert report["abandonedWrites"]["changed"] == 2
    assert report["abandonedWrites"]["keptIn"].endswith("-abandoned.archive.gz")
    assert report["abandonedWrites"]["readByCompose"]       # no migration: compose's own database
    assert [e["result"] for e in runner.ledger.entries("rollback-to-compose")] == ["restored"]


def test_nothing_stops_when_the_new_productions_writes_cannot_be_kept(tmp_path, deployed, audit_dir, calls):
    def full_disk(*args, **kwargs):
        raise data_ops.DataOperationError("backup of meeshy failed (exit 1): no space left on device")
    runner = FakeRunner(tmp_path / "ledger", doc("r1", "meeshy"))
    report = takeover_rollback.rollback_to_compose(runner, audit_dir, confirm=lambda s: True,
                                                   restore_seconds=60, log=lambda m: None,
                                                   collaborators=seam(deployed, calls,
                                                                      take_backup=full_disk))
    assert report["result"] == "failed" and report["failedStep"] == "keep-abandoned-writes"
    assert "no space left" in report["error"]
    assert report["abandonedWrites"] is None
    assert not any(c[0] == "give-back" for c in calls)


def test_not_confirmed_changes_nothing(tmp_path, deployed, audit_dir, calls):
    runner = FakeRunner(tmp_path / "ledger", doc("r1", "meeshy"))
    assert takeover_rollback.rollback_to_compose(runner, audit_dir, confirm=lambda s: False,
                                                 restore_seconds=60, log=lambda m: None,
                                                 collaborators=seam(deployed, calls)) is None
    assert calls == [] and list(runner.ledger.entries()) == []
