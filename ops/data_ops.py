"""ops' direct actions on a stack's data, through the same builders the components use:
digests, baselines, abandoned-write counts, backups outside an update, restores, and the
migration's dry run. Each runs bounded in time and returns the helper's parsed JSON.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Callable

from commands import steps as rc
from config import naming, wiring
from config import stack_edits as edit
from config import validation as v
from config.locations import REPO_ROOT, with_project_tools
from config.release_settings import ReleaseSettings
from config.settings_sections import Database, ReplicaSet, parse_database
from ops.automation import stack_secrets
from steps.backup_manifest import file_sha256, load_manifest
from steps.backup_run import ARCHIVE_SUFFIX
from steps.protocol import result_of

DEFAULT_TIMEOUT = 600.0


class DataOperationError(RuntimeError):
    pass


def server_for(settings: ReleaseSettings, plain_values: dict) -> rc.Server:
    """Where the stack's database is: its external URI, or the stack's database container,
    with the stack's login for a server that needs one (`meeshy:database.server: documentdb`):
    the password is read once here (stack_secrets, decrypted with the stack's passphrase) and
    lives only in the server's login, whose URLs the builders put in a step's environment."""
    if settings.external:
        return rc.ExternalServer(settings.external_uri)
    names = naming.StackNames(settings.stack, "invalid.example")   # names need no domain
    database = _database(plain_values)
    replica = database.replica_set if database else ReplicaSet()
    options = f"replicaSet={replica.name}" if replica.enabled else ""
    if not settings.tools_image:
        raise DataOperationError(f"{edit.key('tools.image')} is not set for stack {settings.stack!r}: "
                                 "in Docker mode ops runs its checks in that image")
    return rc.DockerServer(names.database_host, names.network, settings.tools_image,
                           f"mongodb://{names.replica_member}", options,
                           plain_values.get(edit.key("dockerHost")),
                           _login(settings.stack) if database and database.needs_login else None)


def _database(plain_values: dict) -> Database | None:
    """`meeshy:database` as the platform reads it (its problems are the program's to report:
    ops reads what it can, the defaults otherwise)."""
    return parse_database(plain_values.get(edit.key("database")), edit.key("database"),
                          rehearsal=True, problems=v.Problems())


def _replica_set(plain_values: dict) -> ReplicaSet:
    """`meeshy:database.replicaSet` as the platform reads it."""
    database = _database(plain_values)
    return database.replica_set if database else ReplicaSet()


def _login(stack: str) -> Callable[[str], str]:
    try:
        password = stack_secrets.database_password(stack)
    except stack_secrets.StackSecretError as error:
        raise DataOperationError(str(error)) from None
    return lambda url: wiring.with_login(url, wiring.DOCUMENTDB_USER, password)


def redacted(text: str) -> str:
    """`text` without the password of any login URL in it (a tool's error may quote its URL)."""
    return _LOGIN_IN_URL.sub(r"\1***@", text)


_LOGIN_IN_URL = re.compile(r"(mongodb(?:\+srv)?://[^:/@\s]+:)[^@\s]*@")


def step_environment(env: dict[str, str]) -> dict[str, str]:
    """The environment of a step ops runs on this machine: its own, the step's variables, and
    ops' interpreter as the steps' `python`, whatever the caller's PATH holds."""
    return with_project_tools({**os.environ, **env})


def _run(argv: list[str], env: dict[str, str], timeout: float, what: str) -> str:
    try:
        done = subprocess.run(argv, env=step_environment(env), stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=timeout, cwd=str(REPO_ROOT))
    except subprocess.TimeoutExpired:
        raise DataOperationError(f"{what} did not finish within {timeout:.0f} s") from None
    if done.returncode != 0:
        tail = done.stderr.decode(errors="replace").strip().splitlines()[-6:]
        raise DataOperationError(f"{what} failed (exit {done.returncode}): "
                                 + redacted(" | ".join(tail)))
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


def archive_changes(server: rc.Server, archive_path: str, database: str, *,
                    baseline_path: str | None = None, reference_path: str | None = None,
                    timeout: float = DEFAULT_TIMEOUT) -> dict:
    """What the archive holds beyond a baseline or a reference archive, counted where the
    archives are (the engine's host: a server's disk for an ssh:// engine)."""
    argv = rc.archive_changes_command(server, archive_path, database, baseline=baseline_path,
                                      reference=reference_path)
    return _json_line(_run(argv, {}, timeout, f"read-back of {archive_path}"))


def drop_if_archived(server: rc.Server, database: str, archive_path: str,
                     timeout: float = DEFAULT_TIMEOUT) -> dict:
    """Drops `database` only if every document it holds is in the archive (steps.data_check)."""
    return _json_line(_run(rc.data_check_command(server, "drop", database, archive=archive_path),
                           rc.data_environment(server), timeout, f"drop of {database}"))


def take_backup(server: rc.Server, settings: ReleaseSettings, database: str, label: str,
                timeout: float = DEFAULT_TIMEOUT) -> dict:
    argv = rc.backup_command(server, backup_dir=settings.backup.directory, stack=settings.stack,
                             database=database, label=label, retain=settings.backup.retain,
                             timeout_seconds=int(min(timeout, settings.backup.timeout_seconds)))
    return _json_line(_run(argv, rc.tool_uri_environment(server), timeout + 30,
                           f"backup of {database}"))


def on_remote_host(server: rc.Server) -> bool:
    """Backups of a stack on an SSH engine live on that server, not on this machine."""
    return isinstance(server, rc.DockerServer) and (server.docker_host or "").startswith("ssh://")


def backup_dir_problem(settings: ReleaseSettings, last_backup: dict | None, copies: int = 2,
                       server: rc.Server | None = None) -> str | None:
    """Why the `backupDir` a switch applies cannot take its backups: not writable (tried for
    real), or less free space than `copies` times the last archive of the database it backs up
    (a migration switch archives it twice: the pre-copy's backup and the frozen state's).
    On an SSH engine the folder is the server's, which the backup step itself writes there."""
    import shutil

    from config.locations import writable_problem
    if server is not None and on_remote_host(server):
        return None
    folder = Path(settings.backup.directory)
    problem = writable_problem(folder, edit.key("backupDir"), directory=True)
    if problem or not last_backup or not last_backup.get("sizeBytes"):
        return problem
    base = folder
    while not base.exists() and base != base.parent:
        base = base.parent
    free, need = shutil.disk_usage(base).free, copies * int(last_backup["sizeBytes"])
    if free < need:
        return (f"{edit.key('backupDir')} {folder}: {free / 1e6:.1f} MB free where this switch's "
                f"backups need about {need / 1e6:.1f} MB ({copies} x the last archive of "
                f"{last_backup.get('database')}, {last_backup.get('backupId')}); free space or "
                "point backupDir elsewhere (nothing was changed)")
    return None


def verify_archive(archive_path: str, expected_sha256: str | None = None,
                   server: rc.Server | None = None) -> dict:
    """Checks a backup archive against its manifest (and the sha256 ops recorded for it) before
    anything reads it, where the archive is: on this machine, or on the SSH engine's server
    (stored_manifest). A missing or altered one is named, with the other backups of the same
    database when they are here, and nothing has been changed."""
    if server is not None and on_remote_host(server):
        manifest = stored_manifest(server, archive_path)
        if expected_sha256 and manifest.get("sha256") != expected_sha256:
            raise DataOperationError(
                f"backup archive {archive_path} fails its checksum: its manifest records "
                f"{manifest.get('sha256')} where ops recorded {expected_sha256}: it is not used "
                "and nothing was changed")
        return manifest
    archive = Path(archive_path)
    try:
        manifest = load_manifest(archive)
    except (FileNotFoundError, ValueError) as error:
        manifest, problem = {}, f"has no readable manifest ({error})"
    else:
        problem = None
    if not archive.is_file():
        problem = "is missing"
    elif problem is None:
        actual = file_sha256(archive)
        wanted = {manifest.get("sha256"), expected_sha256} - {None}
        if wanted != {actual}:
            problem = (f"fails its checksum: sha256 {actual} where its manifest "
                       f"records {manifest.get('sha256')}"
                       + (f" and ops recorded {expected_sha256}" if expected_sha256 else ""))
    if problem:
        others = sorted(str(p) for p in archive.parent.glob(f"*{ARCHIVE_SUFFIX}") if p != archive)
        raise DataOperationError(
            f"backup archive {archive} {problem}: it is not used and nothing was changed; other "
            f"backups of that database: {', '.join(others) if others else 'none'}")
    return manifest


def stored_manifest(server: rc.Server, archive_path: str, timeout: float = DEFAULT_TIMEOUT) -> dict:
    """The manifest kept beside a backup, read where the backup is (the engine's host in Docker
    mode) once the archive's sha256, computed there, matches it."""
    text = _run(rc.stored_manifest_command(server, archive_path), {}, timeout,
                f"manifest of backup {archive_path}")
    actual, _, stored = text.partition("\n")
    manifest = json.loads(stored)
    if actual.strip() != manifest.get("sha256"):
        raise DataOperationError(f"backup archive {archive_path} does not match its manifest "
                                 f"(sha256 {actual.strip()}, recorded {manifest.get('sha256')})")
    return manifest


def restore(server: rc.Server, archive_path: str, from_database: str, to_database: str,
            timeout: float = DEFAULT_TIMEOUT, expected_sha256: str | None = None) -> None:
    verify_archive(archive_path, expected_sha256, server)
    _run(rc.restore_command(server, from_database, to_database, archive_path),
         rc.tool_uri_environment(server), timeout, f"restore of {archive_path} into {to_database}")
    _run(rc.data_check_command(server, "indexes", to_database, archive=archive_path),
         rc.data_environment(server), timeout, f"indexes of {to_database} from {archive_path}")


def restore_and_verify(server: rc.Server, archive_path: str, from_database: str,
                       to_database: str, timeout: float = DEFAULT_TIMEOUT) -> dict:
    """Restores, then proves the database equals the archive (counts and content hashes)."""
    from steps.digest import compare

    manifest = stored_manifest(server, archive_path, timeout)
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
    if isinstance(server, rc.ExternalServer):
        report_path.parent.mkdir(parents=True, exist_ok=True)
    _run(argv, rc.migration_environment(server, source, target), timeout,
         f"migration plan {source} -> {target}")
    return json.loads(read_file(server, str(report_path), timeout))


def list_folder(server: rc.Server, folder: str, timeout: float = DEFAULT_TIMEOUT) -> list[str]:
    return _run(rc.list_folder_command(server, folder), {}, timeout, f"listing {folder}").split()


def read_file(server: rc.Server, path: str, timeout: float = DEFAULT_TIMEOUT) -> str:
    """A file the steps wrote where the database is (the engine's host in Docker mode)."""
    if isinstance(server, rc.ExternalServer):
        return Path(path).read_text()
    return _run(rc.read_file_command(server, path), {}, timeout, f"reading {path}")


def prisma_read(server: rc.Server, image: str, database: str,
                timeout: float = DEFAULT_TIMEOUT) -> dict:
    """Every document of `database` read by the Prisma Client `image` carries (steps.prisma_read
    in a container of that image); a refused document is a DataOperationError naming model,
    field and count."""
    argv = rc.prisma_read_command(server, image, deadline_seconds=max(1.0, timeout))
    return _json_line(_run(argv, {rc.PRISMA_DATABASE_URL_ENV: server.database_uri(database)},
                           timeout + 60, f"Prisma read of {database} with {image}"))
