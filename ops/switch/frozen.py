"""The legacy database of a switch to a migrated database: fingerprinted in the window,
archived after it.

Once maintenance is on, nothing writes the legacy database any more: the services take no
writes, the migration only reads it (it writes the target database beside it; its CLI refuses
a target equal to its source), and after the release the services use the target. So the
data a rollback returns to is the legacy database as it stands under maintenance, and it stays
so. A full dump inside the write-unavailability window (its biggest part: 68.6 s of 132 s at
scale 1) therefore buys nothing a fingerprint does not:
- one read of the legacy database gives its counts and content hashes (steps.digest, the same
  digests a backup manifest holds). It costs a full read, as much as the delta pass's: run
  beside the delta pass on 2 cores it doubled the pass (rehearsal at scale 1: 30.9 s -> 64.1 s),
  so it starts once the window has closed (after maintenance-off: read beside that update it
  slowed the engine's start inside the window, 3.1 s against 2.0 s at x1), or before the
  rollback when the switch stops in the window. Any moment
  once maintenance is on reads the same frozen state;
- a rollback in the window finds the legacy database equal to that fingerprint and restores
  nothing (ops/switch/rollback.py verifies it); if it is not equal (something wrote it despite
  maintenance), the rollback stops and names the pre-copy backup instead of restoring an older
  state silently;
- after the window, with production serving writes again, the archive is dumped and must
  equal the fingerprint; it becomes the backup `rollback` returns to (switch ledger).
The pre-copy backup (before the pre-copy migration, outside the window) is still taken.
"""
from __future__ import annotations

import threading
import time

from ops import data_ops
from steps.digest import compare


class Fingerprint:
    """data_ops.digests of one database, on a thread, so it overlaps the delta pass."""

    def __init__(self, server, database: str, timeout: float, *, data=data_ops,
                 monotonic=time.monotonic):
        self.server, self.database, self.timeout = server, database, timeout
        self._data, self._monotonic = data, monotonic
        self.digests: dict | None = None
        self.error: str | None = None
        self.seconds = 0.0
        self._thread = threading.Thread(target=self._run, name=f"fingerprint-{database}",
                                        daemon=True)

    def start(self) -> "Fingerprint":
        self._thread.start()
        return self

    def _run(self) -> None:
        t0 = self._monotonic()
        try:
            self.digests = self._data.digests(self.server, self.database, self.timeout)
        except Exception as error:   # noqa: BLE001 - reported as the phase's failure
            self.error = f"fingerprint of {self.database} under maintenance failed: {error}"
        self.seconds = round(self._monotonic() - t0, 3)

    def wait(self) -> None:
        self._thread.join(self.timeout + 30)
        if self._thread.is_alive():
            self.error = f"fingerprint of {self.database} did not finish in {self.timeout:.0f} s"

    def manifest(self, op_id: str, pre_copy: dict | None) -> dict:
        """What a rollback compares the database with: no archive of this state exists yet."""
        return {"backupId": f"{op_id}-fingerprint", "database": self.database,
                "archive": None, "fingerprint": True, "collections": self.digests,
                "documents": sum(d["count"] for d in self.digests.values()),
                "preCopyBackup": (pre_copy or {}).get("archive")}


def archive_after_window(server, settings, fingerprint: Fingerprint, op_id: str,
                         timeout: float, *, data=data_ops,
                         monotonic=time.monotonic) -> tuple[dict, dict | None]:
    """(report entry, the archive's manifest unless it differs from the fingerprint)."""
    database = fingerprint.database
    t0 = monotonic()
    try:
        manifest = data.take_backup(server, settings, database, f"{op_id}-frozen", timeout)
    except data_ops.DataOperationError as error:
        return {"database": database, "result": "failed", "error": str(error),
                "seconds": round(monotonic() - t0, 3)}, None
    problems = (compare(fingerprint.digests, manifest.get("collections") or {})
                if fingerprint.digests is not None else [])
    entry = {"database": database, "backupId": manifest.get("backupId"),
             "archive": manifest.get("archive"),
             "equalsFingerprint": None if fingerprint.digests is None else not problems,
             "problems": problems, "seconds": round(monotonic() - t0, 3),
             "result": "succeeded" if not problems else "differs"}
    return entry, (manifest if not problems else None)


def pre_copy_backup(report: dict, database: str) -> dict | None:
    """The backup the switch took before its pre-copy (outside the window)."""
    for backup in report["backups"].get(database, []):
        if not backup.get("underMaintenance"):
            return backup
    return None


def start(phases, desired, maintenance_on: bool, deadline: float, *, data=data_ops,
          monotonic=time.monotonic) -> list:
    """[(Fingerprint, None)] of the database the switch froze, once maintenance was on."""
    phase = next((p for p in phases if p.fingerprint_database), None)
    if phase is None or not maintenance_on:
        return []
    fingerprint = Fingerprint(data_ops.server_for(desired, phase.doc.plain_values()),
                              phase.fingerprint_database,
                              timeout=max(60.0, deadline - monotonic()), data=data,
                              monotonic=monotonic)
    return [(fingerprint.start(), None)]


def settle(pending: list, report: dict, op_id: str, backups: dict, log=print) -> None:
    """Waits for the fingerprint (nothing in the window waits for it); it becomes the data a
    rollback returns to until the archive after the window replaces it."""
    for fingerprint, _ in pending:
        fingerprint.wait()
        report.setdefault("frozenBackups", {})[fingerprint.database] = {
            "fingerprintSeconds": fingerprint.seconds}
        if fingerprint.error:
            log(f"WARNING: {fingerprint.error}")
            report["frozenBackups"][fingerprint.database]["fingerprintError"] = fingerprint.error
            continue
        backups[fingerprint.database] = fingerprint.manifest(
            op_id, pre_copy_backup(report, fingerprint.database))


def archive_fingerprinted(pending: list, report: dict, backups: dict, server, settings,
                          op_id: str, log=print, *, data=data_ops, monotonic=time.monotonic) -> None:
    """After the window: every frozen database archived and checked equal to its fingerprint;
    the archive becomes the backup `rollback` returns to."""
    for fingerprint, _ in pending:
        database = fingerprint.database
        entry, archived = archive_after_window(server, settings, fingerprint, op_id,
                                               float(settings.backup.timeout_seconds),
                                               data=data, monotonic=monotonic)
        frozen = report.setdefault("frozenBackups", {})
        frozen[database] = {**frozen.get(database, {}), **entry}
        if archived is None:
            log(f"WARNING: the archive of {database} after the window {entry['result']}: "
                f"{entry.get('error') or '; '.join(entry['problems'])}; a rollback compares "
                f"{database} with its fingerprint and restores nothing")
            continue
        backups[database] = archived
        report["backups"].setdefault(database, []).append(
            {"backupId": archived["backupId"], "archive": archived["archive"],
             "sha256": archived.get("sha256"), "sizeBytes": archived.get("sizeBytes"),
             "documents": archived.get("documents"), "phase": "after-window",
             "underMaintenance": False, "equalsFingerprint": entry["equalsFingerprint"]})
