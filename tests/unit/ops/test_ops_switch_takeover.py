"""The way back from a failed takeover switch, on fakes (the real takeover and restore run on
the engine in tests/e2e/test_takeover_docker.py): the order stack containers -> compose restore
-> readiness check -> report, the first takeover (nothing deployed), a failed way back, and the
docker command lines that remove the stack's containers without touching a volume."""
from __future__ import annotations

import json
import subprocess

import pytest

from ops.switch import run as switch_module
from ops.switch.takeover import give_back_to_compose, remove_stack_containers
from takeover.compose.record import TakeoverError
from tests.support.switch_stand_ins import stand_ins
from tests.unit.ops.test_ops_switch_flow import ROLLED_BACK, FakeRunner, doc

TAKEN = {"opId": "takeover-20260125T0300Z", "volumes": ["meeshy_database-data", "meeshy_uploads"],
         "result": "taken over"}
RESTORED = {"result": "restored", "started containers": ["meeshy-database", "meeshy-gateway"],
            "health": {"meeshy-database": {"state": "healthy"}, "meeshy-gateway": {"state": "healthy"}},
            "differences": []}


@pytest.fixture(autouse=True)
def healthy_last_check(monkeypatch):
    """The switch's last check after maintenance-off answers healthy (the services are stand-ins)."""
    from ops.switch import rollback as rollback_module
    monkeypatch.setattr(rollback_module, "_health", lambda *a, **k: {"healthy": True})


def fakes(order, *, restore=RESTORED, remove_error=None, restore_error=None, deployed=None,
          rollback=None):
    """The takeover's hooks recording their order, and the switch's collaborators: `deployed`
    the stack's current snapshot (None: a first takeover), `rollback` the stack's rollback."""
    def remove_stack(volumes):
        order.append(("remove-stack", tuple(volumes)))
        if remove_error:
            raise remove_error
        return {"result": "removed", "removed": ["meeshy-production-database"]}

    def undo():
        order.append("restore")
        if restore_error:
            raise restore_error
        return restore

    return dict(takeover=lambda: order.append("takeover") or dict(TAKEN), undo_takeover=undo,
                remove_stack=remove_stack,
                refresh_state=lambda: order.append("refresh") or {"result": "succeeded"},
                collaborators=stand_ins(deployed, rollback=rollback))


def test_first_takeover_that_fails_gives_production_back_to_compose(tmp_path):
    order = []
    runner = FakeRunner(tmp_path, doc("r2", "meeshy"), fail_phase="release")
    report = switch_module.run_switch(runner, log=lambda m: None, **fakes(
        order, rollback=lambda *a, **k: pytest.fail("nothing to roll back to")))
    assert order == ["takeover", ("remove-stack", tuple(TAKEN["volumes"])), "restore", "refresh"]
    assert report["result"] == "rolled back" and report["rollback"]["result"] == "skipped"
    compose = report["rollback"]["compose"]
    assert compose["result"] == "restored" and compose["steps"] \
    == ["remove-stack-containers", "restore", "health-check"]
    assert compose["health"]["ok"] is True
    # No `up` after the failure: it would re-create the stack's containers on compose's volumes.
    assert [name for name, _ in runner.applied][-1] == "release"
    assert report["writeUnavailability"]["end"] >= report["phases"][-1]["end"]
    saved = json.loads(open(report["reportPath"]).read())
    assert saved["rollback"]["compose"]["result"] == "restored"


def test_rollback_failed_when_the_stack_containers_cannot_be_removed(tmp_path):
    order = []
    runner = FakeRunner(tmp_path, doc("r2", "meeshy"), fail_phase="backup")
    report = switch_module.run_switch(runner, log=lambda m: None,
                                      **fakes(order, remove_error=TakeoverError("volume(s) gone: x")))
    assert order == ["takeover", ("remove-stack", tuple(TAKEN["volumes"]))]     # restore never ran
    assert report["result"] == "failed, rollback failed"
    assert report["rollback"]["compose"]["failedStep"] == "stackContainers"


def test_rollback_failed_when_compose_does_not_come_back_ready(tmp_path, deployed):
    order = []
    not_ready = {**RESTORED, "health": {"meeshy-database": {"state": "healthy"}}}
    runner = FakeRunner(tmp_path, doc("r2", "meeshy"), fail_phase="release")
    report = switch_module.run_switch(runner, log=lambda m: None, **fakes(
        order, restore=not_ready, deployed=deployed, rollback=ROLLED_BACK))
    assert report["result"] == "failed, rollback failed"
    compose = report["rollback"]["compose"]
    assert compose["failedStep"] == "health" and "not ready: meeshy-gateway" in compose["error"]
    assert "refresh" not in order


def test_a_failed_restore_keeps_its_report_and_fails_the_rollback(tmp_path, deployed):
    error = TakeoverError("restore of takeover-x failed: image(s) no longer on the engine",
                          {"result": "failed"})
    report = switch_module.run_switch(FakeRunner(tmp_path, doc("r2", "meeshy"), fail_phase="backup"),
                                      log=lambda m: None, **fakes([], restore_error=error,
                                                                  deployed=deployed,
                                                                  rollback=ROLLED_BACK))
    assert report["result"] == "failed, rollback failed"
    assert report["rollback"]["compose"]["restore"] == {"result": "failed"}
    assert report["rollback"]["result"] == "succeeded"      # the stack's own rollback stays reported


def test_a_takeover_that_failed_after_recording_is_given_back(tmp_path):
    order = []
    calls = fakes(order)

    def half_done():
        order.append("takeover")
        raise TakeoverError("takeover failed: docker stop timed out", {**TAKEN, "result": "failed"})

    runner = FakeRunner(tmp_path, doc("r2", "meeshy"))
    report = switch_module.run_switch(runner, log=lambda m: None, **{**calls, "takeover": half_done})
    assert runner.applied == [] and \
    order[1:] == [("remove-stack", tuple(TAKEN["volumes"])), "restore", "refresh"]
    assert report["result"] == "rolled back" and report["takeover"]["record"]["opId"] == TAKEN["opId"]


def test_a_takeover_refused_before_recording_restores_nothing(tmp_path):
    order = []

    def refuse():
        raise TakeoverError("the host changed since the audit")

    report = switch_module.run_switch(FakeRunner(tmp_path, doc("r2", "meeshy")), log=lambda m: None,
                                      **{**fakes(order), "takeover": refuse})
    assert order == [] and report["result"] == "failed" and "compose" not in report["rollback"]


def test_a_state_refresh_failure_is_reported_not_fatal():
    report = give_back_to_compose(TAKEN, remove_stack=lambda v: {"result": "removed"},
                                  restore_compose=lambda: RESTORED,
                                  refresh_state=lambda: (_ for _ in ()).throw(RuntimeError("no provider")),
                                  log=lambda m: None)
    assert report["result"] == "restored" and report["stateRefresh"]["result"] == "failed"


class RecordingEngine:
    """Answers the docker commands remove_stack_containers runs, and records them."""
    docker_host = None

    def __init__(self, containers, volumes, lose_volume=None):
        self.commands, self.containers, self.volumes = [], containers, set(volumes)
        self.lose_volume = lose_volume

    def lines(self, argv, **kwargs):
        self.commands.append(argv)
        return [c["Id"] for c in self.containers]

    def inspect_containers(self, refs):
        return [c for c in self.containers if c["Id"] in refs]

    def inspect_volumes(self, names):
        return {n: {"Name": n} for n in names if n in self.volumes}

    def run(self, argv, **kwargs):
        self.commands.append(argv)
        if argv[1] == "rm":
            self.containers = []
            self.volumes.discard(self.lose_volume)
        return subprocess.CompletedProcess(argv, 0, "", "")


def container(name, running, volume):
    return {"Id": name + "-id", "Name": "/" + name, "State": {"Running": running},
            "Mounts": [{"Type": "volume", "Name": volume}, {"Type": "bind", "Source": "/etc/x"}]}


def test_stack_containers_are_stopped_then_removed_without_volumes():
    engine = RecordingEngine([container("meeshy-production-database", True, "meeshy_database-data"),
                              container("meeshy-production-migrate", False, "meeshy_database-data")],
                             ["meeshy_database-data", "meeshy_uploads"])
    report = remove_stack_containers("production", keep_volumes=["meeshy_uploads"], engine=engine,
                                     log=lambda m: None)
    assert engine.commands == [
        ["docker", "ps", "--all", "--no-trunc", "--quiet", "--filter", "label=meeshy.stack=production"],
        ["docker", "stop", "--time", "30", "meeshy-production-database"],
        ["docker", "rm", "--force", "meeshy-production-database", "meeshy-production-migrate"],
        ["docker", "ps", "--all", "--no-trunc", "--quiet", "--filter", "label=meeshy.stack=production"],
    ]
    assert report["volumesIntact"] == ["meeshy_database-data", "meeshy_uploads"]


def test_a_volume_gone_after_removal_is_an_error():
    engine = RecordingEngine([container("meeshy-production-database", True, "meeshy_database-data")],
                             ["meeshy_database-data"], lose_volume="meeshy_database-data")
    with pytest.raises(TakeoverError, match=r"volume\(s\) gone: \['meeshy_database-data'\]"):
        remove_stack_containers("production", keep_volumes=[], engine=engine, log=lambda m: None)
