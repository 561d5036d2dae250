"""The update's resource timeline: what the switch report says took a phase's time."""
from types import SimpleNamespace

from pulumi.automation.events import OpType

from ops.automation.timeline import ResourceTimeline

URN = "urn:pulumi:prod::meeshy::meeshy:platform:Platform$docker:index/container:Container::meeshy-prod-"


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def event(kind, name, op, type_="docker:index/container:Container"):
    meta = SimpleNamespace(urn=URN + name, op=op, type=type_)
    fields = {"resource_pre_event": None, "res_outputs_event": None, "res_op_failed_event": None}
    fields[kind] = SimpleNamespace(metadata=meta)
    return SimpleNamespace(**fields)


def test_steps_are_timed_from_the_update_start_and_short_or_unchanged_ones_are_only_counted():
    clock = Clock()
    timeline = ResourceTimeline("meeshy-prod-", clock)
    clock.now = 103.0      # the program ran and the engine diffed for 3 s
    timeline(event("resource_pre_event", "gateway", OpType.CREATE_REPLACEMENT))
    timeline(event("resource_pre_event", "release", OpType.CREATE, "meeshy:release:Release"))
    timeline(event("resource_pre_event", "network", OpType.SAME))
    timeline(event("res_outputs_event", "network", OpType.SAME))
    timeline(event("resource_pre_event", "web", OpType.UPDATE))
    clock.now = 103.2
    timeline(event("res_outputs_event", "web", OpType.UPDATE))
    clock.now = 110.0
    timeline(event("res_outputs_event", "gateway", OpType.CREATE_REPLACEMENT))
    timeline(event("resource_pre_event", "old-gateway", OpType.DELETE))
    clock.now = 112.5
    timeline(event("res_op_failed_event", "old-gateway", OpType.DELETE))
    timeline(event("res_outputs_event", "release", OpType.CREATE, "meeshy:release:Release"))
    clock.now = 114.0
    summary = timeline.summary()
    assert summary["engineStart"] == 3.0
    assert summary["tail"] == 1.5
    assert summary["otherSteps"] == 1          # web's 0.2 s; the network and component not at all
    assert summary["steps"] == [
        {"name": "gateway", "op": "create-replacement", "start": 3.0, "seconds": 7.0},
        {"name": "old-gateway", "op": "delete", "start": 10.0, "seconds": 2.5, "failed": True}]


def test_an_update_that_ran_no_step_is_all_engine_start():
    clock = Clock()
    timeline = ResourceTimeline("meeshy-prod-", clock)
    clock.now = 104.0
    assert timeline.summary() == {"engineStart": 4.0, "tail": 0.0, "steps": [], "otherSteps": 0}
