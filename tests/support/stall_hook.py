"""A fault planted in a real `python -m migration run` process, for the lease's tests: the process
stops itself (SIGSTOP, every thread at once) at a chosen command, as a stall would stop it.

`MIGRATION_TEST_STALL` says where, read when the chain module below is imported (before the CLI
connects, so every client it builds carries the listener):
    "<collection>:<n>"        right after the n-th write command into <collection> succeeded;
    "<collection>:<n>:claim"  right after the first lease claim answered after that write, i.e.
                              between a claim and the write it allowed.
The test resumes the process with SIGCONT.
"""
from __future__ import annotations

import os
import signal
import threading

from pymongo import monitoring

ENV = "MIGRATION_TEST_STALL"
WRITES = ("insert", "update", "delete")


def _is_claim(command) -> bool:
    """The lease's claim: an update of `_migrations`' lease counting `claims`."""
    updates = command.get("updates") or []
    return command.get("update") == "_migrations" and any(
        "claims" in (u.get("u") or {}).get("$inc", {}) for u in updates)


class Stall(monitoring.CommandListener):
    def __init__(self, spec: str):
        collection, count, *after = spec.split(":")
        self.collection, self.count, self.after_claim = collection, int(count), after == ["claim"]
        self.writes = 0
        self.done = False
        self._pending: dict = {}
        self._lock = threading.Lock()

    def started(self, event):
        name = event.command_name
        if name in WRITES and event.command.get(name) == self.collection:
            self._pending[event.request_id] = "write"
        elif name == "update" and _is_claim(event.command):
            self._pending[event.request_id] = "claim"

    def succeeded(self, event):
        kind = self._pending.pop(event.request_id, None)
        with self._lock:
            if kind == "write":
                self.writes += 1
            due = self.writes >= self.count and (kind == "claim") == self.after_claim
            if kind is None or self.done or not due:
                return
            self.done = True
        os.kill(os.getpid(), signal.SIGSTOP)

    def failed(self, event):
        self._pending.pop(event.request_id, None)


def install() -> None:
    spec = os.environ.get(ENV)
    if spec:
        monitoring.register(Stall(spec))
