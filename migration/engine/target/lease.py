"""One run at a time per target: a lease document in `_migrations`, kept alive by a heartbeat.

    {_id: "lease", owner: "host:pid:token", host, pid, started_at, heartbeat_at, seconds,
     write_seconds, writes_until}

Taking it is an insert (the `_id` is unique, so two runs cannot both succeed). A lease held by
another run is refused, unless it is stale: its heartbeat is older than the lease's duration,
or it names a process of this very host that no longer exists (a killed run). A stale lease is
replaced only if it still holds the heartbeat that was read (compare and swap), and the report
says whose lease was taken over.

A taken-over run writes nothing once its successor holds the lease, and the bound is in time:
- every write command of a run is sent inside a window (`window`): first a claim, a conditional
  update matching this run's owner that refreshes the heartbeat and records `writes_until`;
  then the command, under a deadline `write_seconds` (half the lease, at most the client's
  operation deadline) counted from before the claim was sent. pymongo refuses to send a
  command whose deadline has passed and sends the rest as `maxTimeMS`, so the server aborts a command that
  would run past it (MongoDB; migration/engine/deadlines.py). A run stalled anywhere (between two commands,
  between a claim and its command) finds on waking either a claim refused or a deadline
  passed, and stops naming the lost lease;
- a taker waits until that window has closed: a heartbeat older than the lease's duration is
  at least `seconds - write_seconds` (half the lease: the margin for clocks and the network)
  past the end of the last window, and a killed process's lease is taken only once its
  `writes_until` has passed (a command it sent before dying may still be running).
The one write a stall could still land late is a command pymongo had already stamped with its
`maxTimeMS` and was putting on the wire (no I/O in between): it then runs for what was left of
its window on arrival. Closing that too needs the write and the fence check in one transaction
(MongoDB replica sets only; FerretDB has none). Each lease also draws a fence, a number from
`{_id: "fence"}` that only grows (an atomic `$inc`), and each checkpoint is written on
condition, in the same command, that no later fence wrote it (checkpoint.save_progress).
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import os
import secrets
import socket
import threading
import time

import pymongo
from pymongo import ReturnDocument
from pymongo.errors import BulkWriteError, DuplicateKeyError, PyMongoError

from migration.engine.errors import MigrationError
from migration.engine.target.checkpoint import MIGRATIONS

LEASE_SECONDS = 60


class LeaseHeld(MigrationError):
    """Another run holds the target; exit code 1 (try again once it has finished)."""


class LeaseLost(MigrationError):
    """This run's lease was taken over (it stalled past the lease's duration); exit code 1."""


class Lease:
    def __init__(self, target_db, seconds: float = LEASE_SECONDS):
        self.coll = target_db[MIGRATIONS]
        self.seconds = seconds
        # How long one write command may take after the claim that allowed it.
        self.write_seconds = min(seconds / 2, target_db.client.options.timeout or seconds)
        self.host, self.pid = socket.gethostname(), os.getpid()
        self.owner = f"{self.host}:{self.pid}:{secrets.token_hex(4)}"
        self.took_over = None           # a sentence for the report when a stale lease was taken
        self._stop = threading.Event()
        self._lost = None
        self._thread = None

    def acquire(self) -> "Lease":
        started = now()
        doc = {"_id": "lease", "owner": self.owner, "host": self.host, "pid": self.pid,
               "started_at": started, "heartbeat_at": started, "seconds": self.seconds,
               "write_seconds": self.write_seconds, "writes_until": started}
        try:
            self.coll.insert_one(doc)
        except DuplicateKeyError:
            self._take_over(doc)
        self.fence = self.coll.find_one_and_update(
            {"_id": "fence"}, {"$inc": {"n": 1}}, upsert=True,
            return_document=ReturnDocument.AFTER)["n"]
        self._thread = threading.Thread(target=self._beat, daemon=True)
        self._thread.start()
        return self

    def _take_over(self, doc) -> None:
        held = self.coll.find_one({"_id": "lease"})
        if held is None:  # released between our insert and our read
            self.coll.insert_one(doc)
            return
        why = self._stale(held)
        if why is None:
            age = (now() - _aware(held.get("heartbeat_at"))).total_seconds()
            raise LeaseHeld(
                f"another run holds the target {self.coll.database.name}: {held.get('owner')}, "
                f"started {held.get('started_at')}, last heartbeat {age:.0f} s ago; wait for it "
                f"to finish (its lease expires {self.seconds:g} s after its last heartbeat)")
        waited = _wait_for_window(held) if "no longer exists" in why else 0
        if waited:
            why += f" (waited {waited:.1f} s for the end of its last write window)"
        swapped = self.coll.replace_one({"_id": "lease", "owner": held.get("owner"),
                                         "heartbeat_at": held.get("heartbeat_at")}, doc)
        if swapped.modified_count != 1:
            raise LeaseHeld(f"another run took the target {self.coll.database.name} over at "
                            f"the same moment; try again once it has finished")
        self.took_over = (f"took over the lease of {held.get('owner')} (started "
                          f"{held.get('started_at')}): {why}")

    def _stale(self, held) -> str | None:
        beat = _aware(held.get("heartbeat_at"))
        if beat is None:
            return "its lease record was damaged"
        age = (now() - beat).total_seconds()
        if age > float(held.get("seconds") or self.seconds) and _window_closed(held):
            return f"its last heartbeat was {age:.0f} s ago"
        if held.get("host") == self.host and isinstance(held.get("pid"), int) \
                and not _alive(held["pid"]):
            return f"its process {held['pid']} on this host no longer exists"
        return None

    def _beat(self) -> None:
        while not self._stop.wait(self.seconds / 4):
            try:
                done = self.coll.update_one({"_id": "lease", "owner": self.owner},
                                            {"$set": {"heartbeat_at": now()}})
            except Exception as exc:  # noqa: BLE001 - reported by check() in the run's thread
                self._lost = f"its heartbeat failed: {exc}"
                return
            if done.matched_count != 1:
                self._lost = "another run took the lease over"
                return

    def claim(self, window: float = 0.0) -> None:
        """Asks the database whether this run still holds the lease, refreshing its heartbeat
        and recording until when its writes may run (`window` seconds from now; 0: none is in
        flight); raises LeaseLost (before the caller writes anything) when it does not. Only
        the database's answer counts: what the heartbeat thread learns meanwhile stops the
        next claim, not this one (a window's deadline covers what follows a stale answer)."""
        self.check()
        stamp = now()
        try:
            done = self.coll.update_one(
                {"_id": "lease", "owner": self.owner},
                {"$set": {"heartbeat_at": stamp,
                          "writes_until": stamp + _dt.timedelta(seconds=window)},
                 "$inc": {"claims": 1}})
        except PyMongoError as exc:
            self._lost = f"its lease could not be checked: {exc}"
            self.check()
        if done.matched_count != 1:
            self._lost = "another run took the lease over"
            self.check()

    @contextlib.contextmanager
    def window(self):
        """One write command (or a few quick ones), sent only after a claim and finished within
        `write_seconds` of the moment the claim was about to be sent, or not at all. The
        deadline is fixed before the claim goes out: a stall anywhere after that eats into it,
        never extends it. A deadline that passes, or any failure, while the lease has gone is
        reported as the lost lease."""
        try:
            with pymongo.timeout(self.write_seconds):
                self.claim(self.write_seconds)
                yield
        except (BulkWriteError, DuplicateKeyError):
            raise   # the server answered about documents: it ran the command in time
        except PyMongoError:
            if self._still_held() is False:
                self._lost = "another run took the lease over while this one stalled"
                self.check()
            raise

    def _still_held(self) -> bool | None:
        """Whether the lease is still this run's (None: the database did not say)."""
        try:
            return self.coll.find_one({"_id": "lease", "owner": self.owner}, {"_id": 1}) \
                is not None
        except PyMongoError:
            return None

    def fenced_out(self) -> None:
        """A conditional write found a later fence's record: this run was taken over."""
        self._lost = self._lost or "a run holding a later fence wrote its checkpoint"
        self.check()

    def check(self) -> None:
        """Raises when this run no longer holds the target (called before each batch)."""
        if self._lost:
            raise LeaseLost(f"this run lost its lease on the target {self.coll.database.name} "
                            f"({self._lost}); nothing more was written")

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.coll.delete_one({"_id": "lease", "owner": self.owner})


def now() -> _dt.datetime:
    """To the millisecond (what BSON keeps): the lease's windows are short in tests."""
    stamp = _dt.datetime.now(_dt.timezone.utc)
    return stamp.replace(microsecond=stamp.microsecond // 1000 * 1000)


def _window_closed(held) -> bool:
    until = _aware(held.get("writes_until"))
    return until is None or now() > until


def _wait_for_window(held) -> float:
    """Sleeps until the window of a dead holder's last write has closed (at most its
    write_seconds, so a damaged record cannot make a run wait longer); the seconds waited."""
    until = _aware(held.get("writes_until"))
    if until is None:
        return 0.0
    bound = held.get("write_seconds")
    bound = float(bound) if isinstance(bound, (int, float)) and bound > 0 else 0.0
    wait = min((until - now()).total_seconds(), bound)
    if wait <= 0:
        return 0.0
    time.sleep(wait)
    return wait


def _aware(value):
    if not isinstance(value, _dt.datetime):
        return None
    return value if value.tzinfo else value.replace(tzinfo=_dt.timezone.utc)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def holder(target_db):
    """The lease document, for `status`."""
    return target_db[MIGRATIONS].find_one({"_id": "lease"}, {"_id": 0})
