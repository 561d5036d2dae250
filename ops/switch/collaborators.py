"""What a switch and a rollback act through, passed in rather than reached for, so that their
orchestration (ops/switch/run.py, ops/switch/rollback.py) runs the same on stand-ins: a budget
test moves a fake clock instead of sleeping, a flow test answers the data operations in memory.

`Collaborators()` is production: the wall clock, the stack's history, ops/data_ops.py, the
health gate's command and ops/switch/rollback.rollback. A field left None is resolved when the
switch or rollback runs, so the module-level default it names is the one in force then.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

from ops import data_ops
from ops.automation import snapshots
from ops.automation.ledger import now_iso


@dataclass(frozen=True)
class Clock:
    """Budgets, deadlines and timings read `monotonic`; report timestamps read `now_iso`."""
    monotonic: Callable[[], float] = time.monotonic
    now_iso: Callable[[], str] = now_iso


@dataclass(frozen=True)
class Collaborators:
    clock: Any = field(default_factory=Clock)   # Clock, or anything with monotonic and now_iso
    snapshots: Any = snapshots     # current(runner) -> the deployed Snapshot or None
    data: Any = data_ops           # baseline, digests, changes_since, take_backup, restore,
    #                                verify_archive, drop_if_archived
    # (server, settings, timeout) -> the health gate's answer; None: rollback._health
    health_gate: Callable[..., dict] | None = None
    # rollback.rollback's signature; None: ops.switch.rollback.rollback
    rollback: Callable[..., dict] | None = None
