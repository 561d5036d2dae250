"""One ops-level lock per stack: switch, rollback, refresh-staging and deploy take it before
they plan anything, so a second one refuses at once (no Pulumi call, no ledger entry, no
rollback attempted).

It is an advisory `flock` on `<ledger root>/ops.lock`, held by the open file for the life of
the process: the kernel drops it when the process ends, SIGKILL included, so a dead command
never leaves it behind. The file names its holder (verb, pid, start) for the refusal.
Python opens files close-on-exec, so no child (pulumi, a plugin) inherits the lock.
"""
from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

from ops import processes
from ops.automation.ledger import now_iso

FILE = "ops.lock"


class StackBusy(RuntimeError):
    """Another ops command holds the stack's lock."""


def holder(root: Path) -> dict | None:
    """Who holds the lock now (None: nobody), read without taking it."""
    path = Path(root) / FILE
    if not path.is_file():
        return None
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            try:
                return json.loads(handle.read() or "{}")
            except ValueError:
                return {}
        fcntl.flock(handle, fcntl.LOCK_UN)
    return None


class StackLock:
    def __init__(self, root: Path, stack: str):
        self.path, self.stack = Path(root) / FILE, stack
        self.handle = None
        self.previous: dict | None = None    # what the last holder wrote (a killed one left it)

    def acquire(self, verb: str) -> "StackLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            try:
                who = json.loads(handle.read() or "{}")
            except ValueError:
                who = {}
            handle.close()
            raise StackBusy(
                f"stack {self.stack!r} is busy: `{who.get('verb', '?')}` by pid {who.get('pid', '?')} "
                f"since {who.get('since', '?')} holds its lock; nothing was done (wait for it, or "
                f"`./meeshy status {self.stack}`)") from None
        handle.seek(0)
        try:
            self.previous = json.loads(handle.read() or "null")
        except ValueError:
            self.previous = None
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"verb": verb, "pid": os.getpid(), "run": processes.identity(),
                                 "since": now_iso()}))
        handle.flush()
        self.handle = handle
        return self

    def release(self) -> None:
        if self.handle is not None:
            self.handle.truncate(0)
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            self.handle.close()
            self.handle = None
