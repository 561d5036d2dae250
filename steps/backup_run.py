"""Runs a dump command whose stdout is a `mongodump --archive --gzip` stream into a backup file.

    python -m steps.backup_run --dir DIR --stack S --database DB --label L --retain N \
        [--timeout SECONDS] -- mongodump ... (or docker exec -i CONTAINER mongodump ...)

The archive is written under DIR/S/DB/ to a temporary name, checked (complete, every declared
collection closed), then renamed, so a failed or interrupted dump never looks like a backup.
The manifest (sha256, size, per-collection counts and digests) is written beside it and
printed on stdout as JSON; older backups of the same stack and database beyond the newest N
are removed. Exit 0 on success, 1 when the dump failed or timed out, 3 when the archive is
unusable, 2 on bad usage.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from steps import archive
from steps.backup_manifest import describe, manifest_path
from steps.protocol import print_result

ARCHIVE_SUFFIX = ".archive.gz"
_LABEL_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def backup_folder(base: Path, stack: str, database: str) -> Path:
    return base / stack / database


def archive_name(label: str, now: dt.datetime) -> str:
    stamp = now.strftime("%Y%m%dT%H%M%S") + f"{now.microsecond // 1000:03d}Z"
    safe = _LABEL_UNSAFE.sub("-", label).strip("-") or "backup"
    return f"{stamp}-{safe}{ARCHIVE_SUFFIX}"


def apply_retention(folder: Path, retain: int, keep: Path) -> list[str]:
    """Removes the oldest archives (names start with a UTC stamp) beyond the newest `retain`."""
    archives = sorted(p for p in folder.glob(f"*{ARCHIVE_SUFFIX}") if p.is_file())
    removed = []
    for old in archives[:-retain] if retain > 0 else []:
        if old == keep:
            continue
        old.unlink()
        manifest_path(old).unlink(missing_ok=True)
        removed.append(old.name)
    return removed


def run_dump(command: list[str], target: Path, timeout: float) -> None:
    """Streams the command's stdout into target; raises RuntimeError naming the failure."""
    with target.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.PIPE)
        try:
            _, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise RuntimeError(f"dump did not finish within {timeout:g} s: {command[0]} killed")
        out.flush()
        os.fsync(out.fileno())
    if process.returncode != 0:
        tail = stderr.decode(errors="replace").strip().splitlines()[-5:]
        raise RuntimeError(f"dump exited with {process.returncode}: " + " | ".join(tail))


def take_backup(base: Path, stack: str, database: str, label: str, retain: int,
                command: list[str], timeout: float) -> dict:
    folder = backup_folder(base, stack, database)
    folder.mkdir(parents=True, exist_ok=True)
    started = dt.datetime.now(dt.timezone.utc)
    final = folder / archive_name(label, started)
    partial = final.with_name(final.name + ".partial")
    clock = time.monotonic()
    try:
        run_dump(command, partial, timeout)
        manifest = describe(partial, database)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, final)
    manifest.update({
        "archive": str(final),
        "backupId": f"{stack}/{database}/{final.name[: -len(ARCHIVE_SUFFIX)]}",
        "stack": stack,
        "database": database,
        "label": label,
        "takenAt": started.isoformat(),
        "durationSeconds": round(time.monotonic() - clock, 3),
    })
    manifest_path(final).write_text(json.dumps(manifest, indent=2, sort_keys=True))
    manifest["removedByRetention"] = apply_retention(folder, retain, final)
    return manifest


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--" not in argv:
        print("error: the dump command must follow `--`", file=sys.stderr)
        return 2
    split = argv.index("--")
    parser = argparse.ArgumentParser(prog="python -m steps.backup_run", description=__doc__)
    parser.add_argument("--dir", required=True, type=Path)
    parser.add_argument("--stack", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--label", required=True)
    parser.add_argument("--retain", type=int, default=10)
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args(argv[:split])
    command = argv[split + 1:]
    if not command:
        parser.error("empty dump command after `--`")
    if args.retain < 1:
        parser.error(f"--retain must be at least 1, got {args.retain}")
    try:
        manifest = take_backup(args.dir, args.stack, args.database, args.label, args.retain,
                               command, args.timeout)
    except archive.ArchiveError as error:
        print(f"error: backup unusable: {error}", file=sys.stderr)
        return 3
    except (RuntimeError, OSError) as error:
        print(f"error: backup of {args.database} failed: {error}", file=sys.stderr)
        return 1
    print_result(manifest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
