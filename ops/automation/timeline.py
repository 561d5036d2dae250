"""Where an update's time goes: every resource step the engine ran, from its event stream.

A switch's window is a few updates long; its report says how long each one took and, here,
what took that time inside it: the engine's start (the program run, plugins, the diff) before
the first step, each step that changed something (create, update, replace, delete) with its
start and length, and the tail after the last one. Steps that change nothing are left out.
"""
from __future__ import annotations

import time

from pulumi.automation.events import OpType

# Steps shorter than this are counted in `otherSteps`, not listed: a phase runs dozens of
# instant ones (a label, a network alias) and the report would drown in them.
LISTED_SECONDS = 0.5
_SKIPPED_OPS = {OpType.SAME, OpType.READ, OpType.REFRESH}
# Components (the project's `meeshy:` types, the stack) and providers do no work of their own:
# a component's step spans its children's.
_GROUPING_TYPES = ("meeshy:", "pulumi:")


def step_name(urn: str, prefix: str = "") -> str:
    """The resource's own name without the stack's prefix (`meeshy-<stack>-`), which every name
    of the program starts with: `gateway-handover`, `release-migration-run`."""
    name = urn.rsplit("::", 1)[-1]
    return name[len(prefix):] if prefix and name.startswith(prefix) else name


class ResourceTimeline:
    """An on_event callback; `summary()` after the update."""

    def __init__(self, prefix: str = "", clock=time.monotonic, on_done=None) -> None:
        """`on_done(name)`: called as each step ends well (ops starts work on it:
        ops/switch/baseline.py)."""
        self.prefix, self.clock, self.on_done = prefix, clock, on_done
        self.began = clock()
        self.running: dict[tuple[str, str], float] = {}
        self.steps: list[dict] = []
        self.begun: set[str] = set()      # every step that began, listed or not

    def __call__(self, event) -> None:
        pre, done = event.resource_pre_event, event.res_outputs_event
        failed = event.res_op_failed_event
        meta = (pre or done or failed).metadata if (pre or done or failed) else None
        if meta is None or meta.op in _SKIPPED_OPS or meta.type.startswith(_GROUPING_TYPES):
            return
        key, now = (meta.urn, str(meta.op.value)), self.clock()
        if pre:
            self.running[key] = now
            self.begun.add(step_name(meta.urn, self.prefix))
            return
        started = self.running.pop(key, None)
        if started is None:
            return
        name = step_name(meta.urn, self.prefix)
        self.steps.append({"name": name, "op": str(meta.op.value),
                           "start": round(started - self.began, 3),
                           "seconds": round(now - started, 3), **({"failed": True} if failed else {})})
        if self.on_done is not None and not failed:
            self.on_done(name)

    def summary(self) -> dict:
        """`engineStart`: seconds before the first step began; `tail`: after the last one ended;
        `steps`: the steps of LISTED_SECONDS or more, in the order they started."""
        ended = self.clock() - self.began
        ordered = sorted(self.steps, key=lambda s: s["start"])
        listed = [s for s in ordered if s["seconds"] >= LISTED_SECONDS]
        first = ordered[0]["start"] if ordered else ended
        last = max((s["start"] + s["seconds"] for s in ordered), default=ended)
        return {"engineStart": round(first, 3), "tail": round(max(0.0, ended - last), 3),
                "steps": listed, "otherSteps": len(ordered) - len(listed)}
