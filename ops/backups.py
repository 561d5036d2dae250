"""A stack's backups where they are: on the engine's host in Docker mode (the server's disk for
an ssh:// engine), checksummed there; `fetch-backup` copies one to this machine and verifies it.

`latest_backup` is the newest backup of the database the stack's services use, as ops recorded
it (else the newest archive with a manifest in the stack's backup folder), read through the
stack's server. `fetch` streams the archive out of a tools container (`cat`, read-only mount),
then checks the copy here: its sha256 and every collection's count and content hash must equal
the manifest's, or the copy is removed.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from commands import steps as rc
from ops import data_ops
from ops.automation import snapshots
from steps.backup_manifest import describe, manifest_path
from steps.backup_run import ARCHIVE_SUFFIX, backup_folder
from steps.digest import compare


class BackupError(RuntimeError):
    pass


def stack_server(runner) -> tuple[rc.Server, object]:
    """The server of the stack as last deployed (its database and backup settings)."""
    deployed = snapshots.current(runner)
    if deployed is None:
        raise BackupError(f"stack {runner.stack_name!r} has never been deployed through ops")
    return data_ops.server_for(deployed.settings, deployed.doc.plain_values()), deployed.settings


def latest_backup(runner) -> tuple[rc.Server, dict]:
    server, settings = stack_server(runner)
    database = settings.live_database
    recorded = runner.ledger.latest_backup(database)
    if recorded:
        try:
            return server, data_ops.stored_manifest(server, recorded["archive"])
        except data_ops.DataOperationError:
            pass            # removed by retention since: the folder's newest one below
    folder = str(backup_folder(Path(settings.backup.directory), runner.stack_name, database))
    for archive in reversed(_archives(server, folder)):
        try:
            return server, data_ops.stored_manifest(server, archive)
        except data_ops.DataOperationError:
            continue
    migrated = settings.migration is not None and settings.migration.target_database == database
    raise BackupError(f"no backup of {database} found for stack {runner.stack_name!r} "
                      f"(looked in ops' records and {folder} on the stack's engine host)"
                      + (f"; {database} is the database its migration wrote, which the switch "
                         "does not back up: the next release (a new meeshy:release, deployed) "
                         "takes its first backup" if migrated else ""))


def _archives(server: rc.Server, folder: str) -> list[str]:
    return sorted(f"{folder}/{name}" for name in data_ops.list_folder(server, folder)
                  if name.endswith(ARCHIVE_SUFFIX))


def fetch(runner, out: Path, archive: str | None = None, timeout: float = 3600.0,
          log=print) -> dict:
    """Copies a backup (default: the latest) into `out` and verifies the copy; returns its
    manifest with `copiedTo`."""
    if archive:
        server, _ = stack_server(runner)
        manifest = data_ops.stored_manifest(server, archive)
    else:
        server, manifest = latest_backup(runner)
    out.mkdir(parents=True, exist_ok=True)
    target = out / Path(manifest["archive"]).name
    partial = target.with_name(target.name + ".partial")
    log(f"copying {manifest['backupId']} ({manifest['sizeBytes']} bytes) to {target}")
    try:
        copy_archive(server, manifest["archive"], partial, timeout)
        copy = describe(partial, manifest["database"])
        problems = ([] if copy["sha256"] == manifest["sha256"] else
                    [f"sha256 {copy['sha256']} differs from the manifest's {manifest['sha256']}"])
        problems += compare(manifest["collections"], copy["collections"])
        if problems:
            raise BackupError(f"the copy of {manifest['backupId']} differs from its manifest: "
                              + "; ".join(problems))
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, target)
    manifest_path(target).write_text(json.dumps(manifest, indent=2, sort_keys=True))
    return {**manifest, "copiedTo": str(target), "verified": True}


def copy_archive(server: rc.Server, path: str, target: Path, timeout: float = 3600.0) -> None:
    """The bytes of `path`, where the stack's backups are, into `target` on this machine."""
    with target.open("wb") as handle:
        try:
            done = subprocess.run(rc.read_file_command(server, path), stdout=handle,
                                  stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise BackupError(f"copying {path} did not finish within {timeout:.0f} s") from None
    if done.returncode != 0:
        raise BackupError(f"copying {path} failed (exit {done.returncode}): "
                          + done.stderr.decode(errors="replace").strip()[-300:])
