"""The new database's baseline after a switch's delta pass: its ids and content hashes, what a
later rollback counts the abandoned writes against (ops/switch/rollback.py).

The pass runs inside the release's update (ops/switch/plan.py), so the baseline is read on a
thread started as the engine reports the pass's step done (`on_step`), beside the schema check
and the new containers' start; once it held the window with nothing else running (2.1 s at x1,
8 s at x10). When the step ran before the phase (a resumed switch), it starts after the phase.
No client write reaches the new database before maintenance-off, which waits for the baseline
(run.py); the only other writer meanwhile is the new release's services starting on it, and
whatever they write at boot is theirs, not a client's, so whether the baseline read it before or
after does not change which client writes a rollback keeps. A failed baseline fails the switch
before writes reopen.
"""
from __future__ import annotations

import threading

from ops import data_ops

# The step that writes the new database (components/release/data_migration.py), as
# ops/automation/timeline.step_name names it.
MIGRATION_STEP = "release-migration-run"


class PendingBaseline:
    """One baseline on its thread: `start()` (once), then `settle()` waits for it and records it
    in the switch and in the phase's record."""

    def __init__(self, switch, phase) -> None:
        self.switch, self.database = switch, phase.baseline_after
        self.path = switch.runner.ledger.baseline_path(switch.op_id, self.database)
        self.server = data_ops.server_for(switch.desired, phase.doc.plain_values())
        self.record: dict | None = None      # the phase's record, once it is written
        self.error: str | None = None
        self.seconds = 0.0
        self._thread = threading.Thread(target=self._take, name=f"baseline-{self.database}",
                                        daemon=True)
        self._lock = threading.Lock()

    def on_step(self, name: str) -> None:
        """The engine's report of a step done (StackRunner.up's on_step_done)."""
        if name == MIGRATION_STEP:
            self.start()

    def start(self) -> PendingBaseline:
        with self._lock:
            if not self.started:
                self._thread.start()
        return self

    @property
    def started(self) -> bool:
        return self._thread.ident is not None

    def _take(self) -> None:
        clock = self.switch.c.clock
        t0 = clock.monotonic()
        try:
            self.switch.c.data.baseline(self.server, self.database, self.path,
                                        timeout=max(1.0, self.switch.deadline - clock.monotonic()))
        except data_ops.DataOperationError as error:
            self.error = f"baseline of {self.database} failed: {error}"
        except Exception as error:  # noqa: BLE001 - a thread's failure must reach the switch
            self.error = f"baseline of {self.database} failed: {type(error).__name__}: {error}"
        self.seconds = round(clock.monotonic() - t0, 3)

    def settle(self) -> str | None:
        """Waits for the baseline (never started: nothing to wait for); returns its failure, if
        any. Its time goes in its phase's steps, not in the phase's seconds: it overlapped them."""
        if not self.started:
            return None
        self._thread.join()
        if self.record is not None:
            self.record["steps"]["baseline"] = self.seconds
        if self.error is None:
            self.switch.baselines[self.database] = str(self.path)
        return self.error


def settle(switch) -> str | None:
    """The switch's pending baseline, if any, waited for (once)."""
    pending, switch.pending_baseline = switch.pending_baseline, None
    return pending.settle() if pending is not None else None
