"""ops' direct actions on a stack's data, through the same builders the components use:
digests, baselines, abandoned-write counts, backups outside an update, restores, and the
migration's dry run. Each runs bounded in time and returns the helper's parsed JSON.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from commands import steps as rc
from config import naming
from config import stack_edits as edit
from config import validation as v
from config.locations import REPO_ROOT, with_project_tools
from config.release_settings import ReleaseSettings
from config.settings_sections import ReplicaSet, parse_database
from steps.backup_manifest import load_manifest
from steps.protocol import result_of

DEFAULT_TIMEOUT = 600.0


class DataOperationError(RuntimeError):
    pass


def server_for(settings: ReleaseSettings, plain_values: dict) -> rc.Server:
    """Where the stack's database is: its external URI, or the stack's database container."""
    if settings.external:
        return rc.ExternalServer(settings.external_uri)
    names = naming.StackNames(settings.stack, "invalid.example")   # names need no domain
    replica = _replica_set(plain_values)
    options = f"replicaSet={replica.name}" if replica.enabled else ""
    if not settings.tools_image:
        raise DataOperationError(f"{edit.key('tools.image')} is not set for stack {settings.stack!r}: "
                                 "in Docker mode ops runs its checks in that image")
    return rc.DockerServer(names.database_host, names.network, settings.tools_image,
                           f"mongodb://{names.replica_member}", options,
                           plain_values.get(edit.key("dockerHost")))


def _replica_set(plain_values: dict) -> ReplicaSet:
    """`meeshy:database.replicaSet` as the platform reads it (its problems are the program's to
    report: ops reads what it can, the defaults otherwise)."""
    database = parse_database(plain_values.get(edit.key("database")), edit.key("database"),
                              rehearsal=True, problems=v.Problems())
    return database.replica_set if database else ReplicaSet()


def step_environment(env: dict[str, str]) -> dict[str, str]:
    """The environment of a step ops runs on this machine: its own, the step's variables, and
    ops' interpreter as the steps' `python`, whatever the caller's PATH holds."""
    return with_project_tools({**os.environ, **env})


def _run(argv: list[str], env: dict[str, str], timeout: float, what: str,
         stdin_path: str | None = None) -> str:
    stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
    try:
        done = subprocess.run(argv, env=step_environment(env), stdin=stdin, capture_output=True,
                              timeout=timeout, cwd=str(REPO_ROOT))
    except subprocess.TimeoutExpired:
        raise DataOperationError(f"{what} did not finish within {timeout:.0f} s") from None
    finally:
        if stdin_path:
            stdin.close()
    if done.returncode != 0:
        tail = done.stderr.decode(errors="replace").strip().splitlines()[-6:]
        raise DataOperationError(f"{what} failed (exit {done.returncode}): " + " | ".join(tail))
    return done.stdout.decode()


def _json_line(text: str) -> dict:
    return result_of(text) or {}


def digests(server: rc.Server, database: str, timeout: float = DEFAULT_TIMEOUT) -> dict:
    return _json_line(_run(rc.data_check_command(server, "digests", database),
                           rc.data_environment(server), timeout, f"digests of {database}"))


def baseline(server: rc.Server, database: str, out: Path, timeout: float = DEFAULT_TIMEOUT) -> dict:
    return _json_line(_run(rc.data_check_command(server, "baseline", database, out=str(out)),
                           rc.data_environment(server), timeout, f"baseline of {database}"))


def changes_since(server: rc.Server, database: str, *, baseline_path: Path | None = None,
                  archive_path: str | None = None, timeout: float = DEFAULT_TIMEOUT) -> dict:
    argv = rc.data_check_command(server, "changes", database,
                                 baseline=str(baseline_path) if baseline_path else None,
                                 archive=archive_path)
    return _json_line(_run(argv, rc.data_environment(server), timeout,
                           f"changes of {database}"))


def take_backup(server: rc.Server, settings: ReleaseSettings, database: str, label: str,
                timeout: float = DEFAULT_TIMEOUT) -> dict:
    argv = rc.backup_run_command(backup_dir=settings.backup.directory, stack=settings.stack,
                                 database=database, label=label, retain=settings.backup.retain,
                                 timeout_seconds=int(min(timeout, settings.backup.timeout_seconds)),
                                 dump=rc.dump_command(server, database))
    return _json_line(_run(argv, {}, timeout + 30, f"backup of {database}"))


def restore(server: rc.Server, archive_path: str, from_database: str, to_database: str,
            timeout: float = DEFAULT_TIMEOUT) -> None:
    if not Path(archive_path).is_file():
        raise DataOperationError(f"backup archive {archive_path} is missing")
    _run(rc.restore_command(server, from_database, to_database), {}, timeout,
         f"restore of {archive_path} into {to_database}", stdin_path=archive_path)
    _run(rc.data_check_command(server, "indexes", to_database, archive=archive_path),
         rc.data_environment(server), timeout, f"indexes of {to_database} from {archive_path}")


def restore_and_verify(server: rc.Server, archive_path: str, from_database: str,
                       to_database: str, timeout: float = DEFAULT_TIMEOUT) -> dict:
    """Restores, then proves the database equals the archive (counts and content hashes)."""
    from steps.digest import compare

    manifest = load_manifest(archive_path)
    restore(server, archive_path, from_database, to_database, timeout)
    problems = compare(manifest["collections"], digests(server, to_database, timeout))
    if problems:
        raise DataOperationError(f"{to_database} differs from backup {manifest['backupId']} "
                                 f"after the restore: " + "; ".join(problems))
    return {"backupId": manifest["backupId"], "database": to_database, "verified": True,
            "documents": manifest["documents"]}


def migration_plan(server: rc.Server, source: str, target: str, report_path: Path,
                   timeout: float = DEFAULT_TIMEOUT, decisions: dict | None = None) -> dict:
    """`python -m migration plan` (writes nothing) with the stack's decisions, and its JSON
    report."""
    argv = rc.migration_command(server, "plan", report_path=str(report_path), decisions=decisions)
    report_path.parent.mkdir(parents=True, exist_ok=True)
    _run(argv, rc.migration_environment(server, source, target), timeout,
         f"migration plan {source} -> {target}")
    return json.loads(report_path.read_text())


def prisma_read(server: rc.Server, image: str, database: str,
                timeout: float = DEFAULT_TIMEOUT) -> dict:
    """Every document of `database` read by the Prisma Client `image` carries (steps.prisma_read
    in a container of that image); a refused document is a DataOperationError naming model,
    field and count."""
    argv = rc.prisma_read_command(server, image, deadline_seconds=max(1.0, timeout))
    return _json_line(_run(argv, {rc.PRISMA_DATABASE_URL_ENV: server.database_uri(database)},
                           timeout + 60, f"Prisma read of {database} with {image}"))
