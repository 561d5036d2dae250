"""Stand-ins for what a switch and a rollback act through (ops/switch/collaborators.py): the
tests hand them over as `collaborators=` instead of patching module globals, so a test changes
only the switch it runs."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Callable

from ops import data_ops
from ops.switch.collaborators import Clock, Collaborators


class StandInData:
    """ops/data_ops.py with the named operations replaced; every other name is the real one."""

    def __init__(self, **replaced: Callable):
        self.replaced = replaced

    def __getattr__(self, name: str) -> Any:
        return self.replaced[name] if name in self.replaced else getattr(data_ops, name)


def stand_ins(deployed: Any = None, *, clock: Any = None, rollback: Callable | None = None,
              health_gate: Callable | None = None, **data: Callable) -> Collaborators:
    """The switch's collaborators with `deployed` as the stack's current snapshot (None: never
    deployed), `data` replacing data operations by name, and the rollback and health gate
    given (None: the real ones)."""
    return Collaborators(clock=clock or Clock(),
                         snapshots=SimpleNamespace(current=lambda runner: deployed),
                         data=StandInData(**data), rollback=rollback, health_gate=health_gate)
