"""refresh-staging STACK: restore production's latest backup into the staging stack's own
database (through staging's server: a real copy, never production's volume), verify the copy
equals the archive, then run the migration there, so a switch is rehearsed on exact data.

The backup is the newest one of the database production's services use, as recorded by ops
(or, when ops recorded none, the newest archive with a manifest in production's backup
folder), checked against its manifest's sha256 before it is read. The staging database restored
into has the backup's schema: staging's migration source when it has a migration section (the
legacy data a migration reads), else the database its services use; but once production runs on
its migration's target, the backup has the new schema: it goes into staging's target database
and is not migrated again.

Before that migration, staging's target database is emptied: what it held (the users and
conversations Meeshy's gateway creates when it starts on an empty database, or what was
written on staging since its last refresh) is dumped first and dropped only if that archive
holds all of it (`replaced` in the report names the archive).
"""
from __future__ import annotations

import json
import shlex
import subprocess
import time
from pathlib import Path

from commands import steps as rc
from config.locations import REPO_ROOT
from ops import data_ops
from ops.automation import snapshots
from ops.automation.ledger import new_op_id, now_iso
from ops.automation.stack_runner import StackRunner
from ops.backups import BackupError, latest_backup
from steps.protocol import result_of


class RefreshError(RuntimeError):
    pass


def refresh_staging(staging: StackRunner, production: StackRunner, *, timeout: float = 600.0,
                    log=print) -> dict:
    from config.release_settings import load_release_settings

    if staging.stack_name == production.stack_name:
        raise RefreshError("refresh-staging copies production into another stack; got the same stack twice")
    op_id = new_op_id("refresh")
    clock, started = time.monotonic(), now_iso()
    doc = staging.desired()
    settings = load_release_settings(staging.stack_name, doc.plain_values())
    server = data_ops.server_for(settings, doc.plain_values())
    migration = settings.migration
    prod_deployed = snapshots.current(production)
    prod_server = data_ops.server_for(prod_deployed.settings, prod_deployed.doc.plain_values())
    try:
        _, manifest = latest_backup(production)
    except BackupError as error:
        raise RefreshError(str(error)) from None
    migrated = _of_target_schema(prod_deployed.settings, manifest["database"])
    if migrated and migration is not None:
        # Production already runs on the migration's target: its backup has the new schema, so
        # it goes into staging's target database, and there is nothing left to migrate.
        into, migration = migration.target_database, None
        log(f"{manifest['backupId']} holds {manifest['database']}, production's migrated "
            "database: restored into staging's target database, not migrated again")
    else:
        into = migration.source_database if migration else settings.live_database
    if server == prod_server and into == manifest["database"]:
        raise RefreshError(f"staging's database {into} is production's own database on the same "
                           "server: refusing to restore over production")
    log(f"restoring {manifest['backupId']} ({manifest['documents']} documents) into "
        f"{staging.stack_name}'s database {into}")
    restored = data_ops.restore_and_verify(server, manifest["archive"], manifest["database"],
                                           into, timeout)
    report = {"opId": op_id, "stack": staging.stack_name, "from": production.stack_name,
              "started": started, "backup": {k: manifest[k] for k in ("backupId", "archive", "sha256")},
              "restored": restored, "migration": None}
    if migration is not None:
        report["replaced"] = _clear_target(server, settings, migration.target_database, op_id,
                                           timeout, log)
        path = Path(settings.backup.directory) / staging.stack_name / "migration-reports" / f"{op_id}.json"
        argv = rc.migration_step_command(
            server, rc.migration_script("run", report_path=str(path), to_step=migration.to_step,
                                        decisions=migration.decisions),
            report_path=str(path), timeout_seconds=migration.timeout_seconds)
        log(f"migrating {into} -> {migration.target_database} on {staging.stack_name}")
        env = rc.migration_environment(server, into, migration.target_database)
        done = subprocess.run(argv, env=data_ops.step_environment(env), capture_output=True, text=True,
                              timeout=migration.timeout_seconds + 60, cwd=str(REPO_ROOT))
        result = result_of(done.stdout) or {}
        report["migration"] = {"exitCode": done.returncode, "report": str(path),
                               "summary": result.get("summary")}
        if done.returncode != 0:
            report["result"] = "failed"
            report["error"] = (f"migration exited with {done.returncode}: "
                               + data_ops.redacted(done.stderr.strip()[-500:])
                               + f" (command: {shlex.join(argv[:4])} ...)")
    report.setdefault("result", "succeeded")
    report["seconds"] = round(time.monotonic() - clock, 3)
    path = staging.ledger.report_path(op_id)
    path.write_text(json.dumps(report, indent=2, sort_keys=True, default=str))
    staging.ledger.append({"kind": "refresh", "opId": op_id, "result": report["result"],
                           "backupId": manifest["backupId"], "report": str(path)})
    report["reportPath"] = str(path)
    return report


def _of_target_schema(production, database: str) -> bool:
    """A backup of the database production's migration wrote (the new schema)."""
    target = production.migration.target_database if production.migration else None
    return database == target and production.live_database == target


def _clear_target(server, settings, database: str, op_id: str, timeout: float, log) -> dict | None:
    """`database` emptied for the migration to write anew, its documents kept in an archive
    first (None when it held nothing)."""
    counts = {name: d["count"] for name, d in data_ops.digests(server, database, timeout).items()}
    if not any(counts.values()):
        return None
    kept = data_ops.take_backup(server, settings, database, f"{op_id}-replaced", timeout=timeout)
    dropped = data_ops.drop_if_archived(server, database, kept["archive"], timeout)
    log(f"{database} held {sum(counts.values())} documents: kept in {kept['archive']}, then emptied")
    return {"database": database, "documents": sum(counts.values()), "keptIn": kept["archive"],
            "dropped": bool(dropped.get("dropped"))}
