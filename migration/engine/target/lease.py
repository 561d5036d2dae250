"""One run at a time per target: a lease document in `_migrations`, kept alive by a heartbeat.

    {_id: "lease", owner: "host:pid:token", host, pid, started_at, heartbeat_at}

Taking it is an insert (the `_id` is unique, so two runs cannot both succeed). A lease held by
another run is refused, unless it is stale: its heartbeat is older than the lease's duration,
or it names a process of this very host that no longer exists (a killed run). A stale lease is
replaced only if it still holds the heartbeat that was read (compare and swap), and the report
says whose lease was taken over.

A run that was taken over stops before its next write: each batch's writer thread claims the
lease (`claim`) as the first command of the batch and again right before its checkpoint, a
conditional update matching this run's owner (one round trip per claim). The database answers
it, not the heartbeat thread, so a run stalled past the lease's duration (a paused process, a
slow disk) learns it was replaced at the moment it would write.

A claim and the writes after it are separate commands: a process stalled between the two (its
claim answered, then paused past the lease's duration) would act on a stale answer. So every
lease also draws a fence, a number from `{_id: "fence"}` that only grows (an atomic `$inc`),
and each checkpoint is written on condition, in the same command, that no later fence wrote it
(checkpoint.save_progress): the stale run's checkpoint is refused by the database, on MongoDB
and FerretDB alike. The batch's data and ledger commands carry no fence: a stale run can land
the rest of the one batch it was writing (the same documents, from the same source, so a
replay the ledger already tolerates); on MongoDB a transaction over claim and batch would
close that too, which FerretDB (no transactions) can neither run nor show.
"""
from __future__ import annotations

import datetime as _dt
import os
import secrets
import socket
import threading

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError, PyMongoError

from migration.engine.errors import MigrationError
from migration.engine.target.checkpoint import MIGRATIONS, now

LEASE_SECONDS = 60


class LeaseHeld(MigrationError):
    """Another run holds the target; exit code 1 (try again once it has finished)."""


class LeaseLost(MigrationError):
    """This run's lease was taken over (it stalled past the lease's duration); exit code 1."""


class Lease:
    def __init__(self, target_db, seconds: float = LEASE_SECONDS):
        self.coll = target_db[MIGRATIONS]
        self.seconds = seconds
        self.host, self.pid = socket.gethostname(), os.getpid()
        self.owner = f"{self.host}:{self.pid}:{secrets.token_hex(4)}"
        self.took_over = None           # a sentence for the report when a stale lease was taken
        self._stop = threading.Event()
        self._lost = None
        self._thread = None

    def acquire(self) -> "Lease":
        started = now()
        doc = {"_id": "lease", "owner": self.owner, "host": self.host, "pid": self.pid,
               "started_at": started, "heartbeat_at": started, "seconds": self.seconds}
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
        if age > float(held.get("seconds") or self.seconds):
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

    def claim(self) -> None:
        """Asks the database whether this run still holds the lease, refreshing its heartbeat;
        raises LeaseLost (before the caller writes anything) when it does not."""
        if self._lost is None:
            try:
                done = self.coll.update_one({"_id": "lease", "owner": self.owner},
                                            {"$set": {"heartbeat_at": now()},
                                             "$inc": {"claims": 1}})
                if done.matched_count != 1:
                    self._lost = "another run took the lease over"
            except PyMongoError as exc:
                self._lost = f"its lease could not be checked: {exc}"
        self.check()

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
