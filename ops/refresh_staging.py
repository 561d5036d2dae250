"""refresh-staging STACK: restore production's latest backup into the staging stack's own
database (through staging's server: a real copy, never production's volume), verify the copy
equals the archive, then run the migration there, so a switch is rehearsed on exact data.

The backup is the newest one of the database production's services use, as recorded by ops
(or, when ops recorded none, the newest archive with a manifest in production's backup
folder). The staging database restored into is staging's migration source when it has a
migration section (the legacy data a migration reads), else the database its services use.
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
from steps.backup_manifest import load_manifest
from steps.backup_run import ARCHIVE_SUFFIX, backup_folder
from steps.protocol import result_of


class RefreshError(RuntimeError):
    pass


def latest_backup(production: StackRunner) -> dict:
    deployed = snapshots.current(production)
    if deployed is None:
        raise RefreshError(f"stack {production.stack_name!r} has never been deployed through ops")
    database = deployed.settings.live_database
    recorded = production.ledger.latest_backup(database)
    if recorded and Path(recorded["archive"]).is_file():
        return load_manifest(recorded["archive"])
    folder = backup_folder(Path(deployed.settings.backup.directory), production.stack_name, database)
    archives = sorted(folder.glob(f"*{ARCHIVE_SUFFIX}")) if folder.is_dir() else []
    for archive in reversed(archives):
        try:
            return load_manifest(archive)
        except FileNotFoundError:
            continue
    raise RefreshError(f"no backup of {database} found for stack {production.stack_name!r} "
                       f"(looked in ops' records and {folder})")


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
    into = migration.source_database if migration else settings.live_database
    prod_deployed = snapshots.current(production)
    prod_server = data_ops.server_for(prod_deployed.settings, prod_deployed.doc.plain_values())
    manifest = latest_backup(production)
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
        path = Path(settings.backup.directory) / staging.stack_name / "migration-reports" / f"{op_id}.json"
        argv = rc.migration_step_command(
            report_path=str(path), timeout_seconds=migration.timeout_seconds,
            migration=rc.migration_command(server, "run", report_path=str(path),
                                           to_step=migration.to_step,
                                           decisions=migration.decisions))
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
                               + done.stderr.strip()[-500:] + f" (command: {shlex.join(argv[:4])} ...)")
    report.setdefault("result", "succeeded")
    report["seconds"] = round(time.monotonic() - clock, 3)
    path = staging.ledger.report_path(op_id)
    path.write_text(json.dumps(report, indent=2, sort_keys=True, default=str))
    staging.ledger.append({"kind": "refresh", "opId": op_id, "result": report["result"],
                           "backupId": manifest["backupId"], "report": str(path)})
    report["reportPath"] = str(path)
    return report

