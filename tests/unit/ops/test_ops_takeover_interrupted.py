"""A takeover switch killed at any moment, on fakes (the takeover and restore themselves run on
the engine in tests/e2e/test_takeover_switch_docker.py): its journal plans `takeover` first and
says where its record is; `status` names `rollback` and says it is not resumed; `switch`
refuses to resume it; `rollback` gives production back to compose from this takeover's record
(never an older one), after the stack's own rollback to the switch's fromVersion when a phase
of the stack had started."""
from __future__ import annotations

import json

import pytest

from ops import journal as journals
from ops import processes
from ops.automation import snapshots
from ops.status import _interrupted
from ops.switch import recover, takeover_undo
from ops.switch import run as switch_module
from ops.switch import takeover as switch_takeover
from ops.switch.rollback_verb import rollback_to
from takeover.compose import restore as compose_restore
from tests.unit.ops.test_ops_switch_flow import FakeRunner, doc
from tests.unit.ops.test_ops_switch_takeover import RESTORED, TAKEN, fakes

NOTHING_LEFT = {"pulumiLocks": [], "pendingOperations": 0, "orphanProcesses": []}
OLDER = "takeover-20250101T000000Z.json"     # an earlier takeover, already given back


class Killed(BaseException):
    """SIGKILL as the switch sees it: nothing after it runs, no handler catches it."""


class KilledRunner(FakeRunner):
    def __init__(self, tmp_path, desired, kill_phase):
        super().__init__(tmp_path / "ledger", desired)
        self.kill_phase = kill_phase

    def up(self, doc, *, op_id, phase, snapshot, deadline, policy=True, on_step_done=None):
        if phase == self.kill_phase:
            raise Killed(phase)
        return super().up(doc, op_id=op_id, phase=phase, snapshot=snapshot, deadline=deadline)


@pytest.fixture
def audit(tmp_path):
    folder = tmp_path / "audit"
    folder.mkdir()
    (folder / OLDER).write_text(json.dumps({**TAKEN, "opId": OLDER[:-5], "volumes": ["old"]}))
    return folder


def _kill(tmp_path, audit, *, kill_phase=None, records=True, deployed=None):
    """A takeover switch run until the kill: in `kill_phase` of the stack, else in the takeover
    (after it wrote its record when `records`). Returns the runner and the journal left."""
    runner = KilledRunner(tmp_path, doc("r2", "meeshy"), kill_phase)

    def takeover():
        if records:
            (audit / f"{TAKEN['opId']}.json").write_text(json.dumps(TAKEN))
        if kill_phase is None:
            raise Killed("takeover")
        return dict(TAKEN)

    hooks = {**fakes([], deployed=deployed), "takeover": takeover}
    with pytest.raises(Killed):
        switch_module.run_switch(runner, log=lambda m: None, **hooks,
                                 takeover_facts=takeover_undo.journal_facts(audit, "meeshy"))
    return runner, journals.Journal(runner.ledger.root).read()


@pytest.fixture
def dead(monkeypatch):
    """The killed switch's process is gone (this test's own process runs on)."""
    monkeypatch.setattr(processes, "alive", lambda run: False)


@pytest.fixture
def given_back(monkeypatch):
    order = []
    monkeypatch.setattr(switch_takeover, "remove_stack_containers",
                        lambda stack, keep_volumes, log: order.append(("remove", tuple(keep_volumes)))
                        or {"result": "removed"})
    monkeypatch.setattr(compose_restore, "restore",
                        lambda record, **k: order.append(("restore", record.name)) or RESTORED)
    monkeypatch.setattr(switch_takeover, "refresh_state_of",
                        lambda runner: order.append("refresh") or {"result": "succeeded"})
    return order


def test_the_journal_plans_the_takeover_first_and_names_its_record(tmp_path, audit):
    _, entry = _kill(tmp_path, audit, kill_phase="release")
    assert entry["plan"] == ["takeover", "backup", "release", "maintenance-off"]
    assert [(p["name"], p["ok"]) for p in entry["phases"]] == [
        ("takeover", True), ("backup", True), ("release", None)]
    assert entry["takeoverOpId"] == TAKEN["opId"]
    assert entry["takeover"] == {"auditDir": str(audit.resolve()), "composeProject": "meeshy",
                                 "recordsBefore": [OLDER]}


def test_status_names_rollback_and_switch_refuses_to_resume(tmp_path, audit, dead):
    runner, entry = _kill(tmp_path, audit, kill_phase="release")
    command, sentence = _interrupted(runner, entry, NOTHING_LEFT)
    assert command == "./meeshy rollback production --yes"
    assert "takeover switch" in sentence and "interrupted in phase release" in sentence
    assert "is not resumed" in sentence and str(audit.resolve()) in sentence, sentence
    for takeover in (False, True):
        with pytest.raises(snapshots.SnapshotError, match="gives production back to compose"):
            recover.interrupted_switch(runner, takeover=takeover, log=lambda m: None)


def test_killed_in_the_takeover_after_its_record_rollback_gives_back_from_that_record(
        tmp_path, audit, dead, given_back):
    runner, entry = _kill(tmp_path, audit)
    assert "takeoverOpId" not in entry and journals.phase_in_flight(entry) == "takeover"
    report = rollback_to(runner, None, confirm=lambda s: True, budget_seconds=60, log=lambda m: None)
    record = f"{TAKEN['opId']}.json"
    assert given_back == [("remove", tuple(TAKEN["volumes"])), ("restore", record), "refresh"]
    assert report["result"] == "succeeded" and report["stack"] is None    # nothing deployed before
    assert report["undid"]["interruptedIn"] == "takeover"
    after = journals.Journal(runner.ledger.root).read()
    assert after["kind"] == "rollback" and after["finished"]["result"] == "succeeded"


def test_killed_before_the_takeover_recorded_nothing_is_given_back(tmp_path, audit, dead, given_back):
    runner, _ = _kill(tmp_path, audit, records=False)
    report = rollback_to(runner, None, confirm=lambda s: True, budget_seconds=60, log=lambda m: None)
    # The older record in the folder is another takeover's: restoring it would be wrong.
    assert given_back == [] and report["compose"]["result"] == "not needed"
    assert report["result"] == "succeeded"


def test_killed_in_a_stack_phase_the_stack_rolls_back_to_its_from_version_then_compose(
        tmp_path, audit, dead, given_back, monkeypatch):
    from tests.unit.ops.test_ops_switch_flow import Snapshot, load_release_settings
    before = Snapshot(4, doc("r1", "meeshy"),
                      load_release_settings("production", doc("r1", "meeshy").plain_values()), "")
    runner, entry = _kill(tmp_path, audit, kill_phase="release", deployed=before)
    monkeypatch.setattr(snapshots, "by_version", lambda r, v: before if v == 4 else pytest.fail(v))
    stack_back = []
    monkeypatch.setattr(takeover_undo, "rollback", lambda runner, target, **k: stack_back.append(
        (target.version, given_back[:])) or {"result": "succeeded"})
    report = rollback_to(runner, None, confirm=lambda s: True, budget_seconds=60, log=lambda m: None)
    assert stack_back == [(4, [])]     # the stack first, before compose is touched
    assert given_back == [("remove", tuple(TAKEN["volumes"])), ("restore", f"{TAKEN['opId']}.json"),
                          "refresh"]
    assert report["result"] == "succeeded" and report["stack"] == {"result": "succeeded"}


def test_compose_not_back_fails_the_rollback_and_keeps_its_report(tmp_path, audit, dead, given_back,
                                                                   monkeypatch):
    from ops.switch.rollback import RollbackFailed
    runner, _ = _kill(tmp_path, audit, kill_phase="release")
    monkeypatch.setattr(compose_restore, "restore",
                        lambda record, **k: {**RESTORED, "result": "failed", "error": "not ready"})
    with pytest.raises(RollbackFailed) as failed:
        rollback_to(runner, None, confirm=lambda s: True, budget_seconds=60, log=lambda m: None)
    assert failed.value.report["compose"]["result"] == "failed"
    assert journals.Journal(runner.ledger.root).read()["finished"]["result"] == "failed"
