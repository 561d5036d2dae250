"""Rollback: re-apply a previous snapshot (configuration: images, settings, the database the
services use), restoring its database from the backup recorded for it when it changed since.

    1. abandoned writes: the database the abandoned state's services used is compared with its
       baseline (the backup or post-migration baseline recorded when the switch made it live);
       changed documents are counted per collection and the database is dumped first, so the
       writes are reported and kept, never silently dropped
    2. maintenance on (only when a database the services are using must be restored)
    3. restore every database of the snapshot whose content differs from its recorded backup
    4. up with the snapshot's configuration
    5. health gate (the same command the HealthGate component runs)
    6. verification: each database equals its recorded backup (counts and content hashes)
"""
from __future__ import annotations

import json
import os
import subprocess
import time

from commands import steps as rc
from config.locations import REPO_ROOT
from config.naming import NS
from config.stack_file import ConfigDoc
from ops import data_ops
from ops.automation.ledger import new_op_id, now_iso
from ops.automation.snapshots import Snapshot
from ops.automation.stack_runner import StackRunner
from steps.digest import compare
from steps.protocol import result_of


class RollbackFailed(RuntimeError):
    def __init__(self, message: str, report: dict | None = None):
        super().__init__(message)
        self.report = report


def _health(server, settings, timeout: float) -> dict:
    argv = rc.health_gate_command(server, deadline_seconds=settings.health.deadline_seconds,
                                  interval_seconds=settings.health.interval_seconds,
                                  endpoints=dict(settings.health.endpoints))
    env = {rc.HEALTH_MONGO_ENV: server.database_uri(settings.live_database)}
    done = subprocess.run(argv, env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=timeout, cwd=str(REPO_ROOT))
    return result_of(done.stdout) or {"healthy": False, "failures": [done.stderr[-500:]]}


def rollback(runner: StackRunner, target: Snapshot, *, reason: str, current_doc: ConfigDoc,
             maintenance_on: bool, backups: dict[str, dict], baselines: dict[str, str],
             budget_seconds: float = 600.0, log=print, write_stack_file: bool = False) -> dict:
    """Returns the rollback report; raises RollbackFailed (with the report) when it cannot
    bring the snapshot back healthy and verified.

    backups: database -> manifest of the backup taken under maintenance for that database
    baselines: database -> path of a post-migration baseline (steps.data_check)
    """
    from config.release_settings import load_release_settings

    op_id = new_op_id("rollback")
    started, clock = now_iso(), time.monotonic()
    deadline = clock + budget_seconds
    settings = target.settings
    current = load_release_settings(runner.stack_name, current_doc.plain_values())
    server = data_ops.server_for(settings, target.doc.plain_values())
    report = {"opId": op_id, "stack": runner.stack_name, "toVersion": target.version,
              "release": settings.release, "databaseName": settings.live_database,
              "reason": reason, "started": started, "phases": [], "abandonedWrites": {},
              "restores": [], "verification": {}}
    log(f"rollback to update {target.version} (release {settings.release}, database "
        f"{settings.live_database}): {reason}")

    def step(name, action):
        t0, at = time.monotonic(), now_iso()
        try:
            return action()
        finally:
            report["phases"].append({"name": name, "start": at, "end": now_iso(),
                                     "seconds": round(time.monotonic() - t0, 3)})

    def remaining() -> float:
        left = deadline - time.monotonic()
        if left <= 0:
            raise RollbackFailed(f"rollback over its {budget_seconds:.0f} s budget")
        return left

    try:
        abandoned = current.live_database
        reference = backups.get(abandoned)
        if reference and not reference.get("archive") and abandoned not in baselines:
            # A fingerprint under maintenance (frozen.py): nothing to count writes
            # against document by document; the digests below compare the whole database.
            report["abandonedWrites"] = {"database": abandoned, "counted": False,
                                         "why": "only a fingerprint under maintenance is recorded: "
                                                "compared with the database below"}
        elif abandoned in baselines or reference:
            counted = step("count-abandoned-writes", lambda: data_ops.changes_since(
                server, abandoned,
                baseline_path=baselines.get(abandoned) if abandoned in baselines else None,
                archive_path=None if abandoned in baselines else reference["archive"],
                timeout=remaining()))
            entry = {"database": abandoned, **counted}
            if counted["changed"]:
                kept = step("keep-abandoned-writes", lambda: data_ops.take_backup(
                    server, settings, abandoned, f"{op_id}-abandoned", timeout=remaining()))
                entry["keptIn"] = kept["archive"]
                log(f"  {counted['changed']} document(s) written to {abandoned} after the switch "
                    f"are abandoned by this rollback; kept in {kept['archive']}")
            report["abandonedWrites"] = entry
        else:
            report["abandonedWrites"] = {"database": abandoned, "counted": False,
                                         "why": "no backup or baseline recorded for it"}

        to_restore = []
        for database, manifest in backups.items():
            if database != settings.live_database:
                continue
            now = step(f"digest-{database}", lambda: data_ops.digests(server, database, remaining()))
            if compare(manifest["collections"], now):
                to_restore.append((database, manifest))
        for database, manifest in to_restore:
            if not manifest.get("archive"):   # a fingerprint under maintenance (frozen.py)
                raise RollbackFailed(
                    f"{database} differs from its fingerprint under maintenance "
                    f"({manifest['backupId']}) and no archive of that state exists yet: nothing "
                    f"was restored; the pre-copy backup {manifest.get('preCopyBackup')} holds "
                    f"it as it was before the switch's pre-copy")
        if to_restore and not maintenance_on and current.live_database in {d for d, _ in to_restore}:
            step("maintenance-on", lambda: _up(runner, current_doc.with_values(
                {f"{NS}:maintenance": True}), op_id, "maintenance-on", False, deadline))
        for database, manifest in to_restore:
            step(f"restore-{database}", lambda: data_ops.restore(
                server, manifest["archive"], database, database, remaining()))
            report["restores"].append({"database": database, "backupId": manifest["backupId"],
                                       "archive": manifest["archive"]})
            log(f"  restored {database} from {manifest['backupId']}")

        doc = target.doc.copy()
        step("reapply", lambda: _up(runner, doc, op_id, "reapply", True, deadline))
        health = step("health-gate", lambda: _health(server, settings, remaining()))
        report["health"] = health
        if not health.get("healthy"):
            raise RollbackFailed("health gate failed after the rollback: "
                                 + "; ".join(health.get("failures", [])))
        for database, manifest in backups.items():
            if database != settings.live_database:
                continue
            problems = compare(manifest["collections"],
                               step(f"verify-{database}",
                                    lambda: data_ops.digests(server, database, remaining())))
            report["verification"][database] = {
                "backupId": manifest["backupId"], "equal": not problems, "problems": problems,
                "documents": manifest.get("documents")}
            if problems:
                raise RollbackFailed(f"{database} differs from backup {manifest['backupId']}: "
                                     + "; ".join(problems))
        if settings.live_database not in backups:
            report["verification"][settings.live_database] = {
                "equal": None, "why": "no backup under maintenance recorded for this database "
                                      "(the switch failed before taking it): nothing was restored"}
        if write_stack_file:
            target.doc.write(runner.stack_file)
            report["stackFile"] = f"{runner.stack_file} now holds update {target.version}'s configuration"
        report["result"] = "succeeded"
    except (RollbackFailed, data_ops.DataOperationError, subprocess.TimeoutExpired) as failure:
        report["result"] = "failed"
        report["error"] = str(failure)
        log(f"rollback FAILED: {failure}")
    report["ended"] = now_iso()
    report["seconds"] = round(time.monotonic() - clock, 3)
    runner.ledger.append({"kind": "rollback", "opId": op_id, "toVersion": target.version,
                          "result": report["result"], "reason": reason,
                          "report": str(_write(runner, op_id, report))})
    if report["result"] != "succeeded":
        raise RollbackFailed(report.get("error", "rollback failed"), report)
    return report


def _up(runner: StackRunner, doc: ConfigDoc, op_id: str, phase: str, snapshot: bool,
        deadline: float):
    result = runner.up(doc, op_id=op_id, phase=phase, snapshot=snapshot, deadline=deadline)
    if not result.ok:
        raise RollbackFailed(f"update {phase} failed: {result.error}")
    return result


def _write(runner: StackRunner, op_id: str, report: dict):
    path = runner.ledger.report_path(op_id)
    path.write_text(json.dumps(report, indent=2, sort_keys=True, default=str))
    return path


def rollback_to(runner: StackRunner, version: int | None, *, confirm, budget_seconds: float,
                log=print) -> dict | None:
    """The `rollback STACK [--to N]` verb: from the current snapshot to update N (default the
    previous snapshot), after the policy pack's preview. None when not confirmed; raises
    RollbackFailed (with its report) when the rollback fails."""
    from ops.automation import snapshots

    current = snapshots.current(runner)
    if current is None:
        raise snapshots.SnapshotError(f"stack {runner.stack_name!r} has no snapshot to roll back from")
    target = (snapshots.by_version(runner, version) if version is not None
              else snapshots.previous(runner, current.version))
    runner.check_policies(target.doc, op_id="policy-rollback")
    if not confirm(f"rollback {runner.stack_name}: update {current.version} ({current.settings.release}) -> "
                   f"update {target.version} ({target.settings.release})"):
        return None
    leaving = runner.ledger.switch_leaving(target.version) or {}
    return rollback(runner, target, reason=f"requested: back to update {target.version}",
                    current_doc=current.doc, maintenance_on=current.settings.maintenance,
                    backups=leaving.get("backups") or {},
                    baselines=baselines_since(runner, target.version),
                    budget_seconds=budget_seconds, log=log, write_stack_file=True)


def baselines_since(runner: StackRunner, version: int) -> dict[str, str]:
    """Post-migration baselines of switches after `version`, earliest first per database."""
    found: dict[str, str] = {}
    for entry in runner.ledger.entries("switch"):
        if (entry.get("fromVersion") or 0) >= version and entry.get("result") == "succeeded":
            for database, path in (entry.get("baselines") or {}).items():
                found.setdefault(database, path)
    return found
