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
import subprocess
from dataclasses import dataclass
from typing import Callable

from commands import steps as rc
from config.locations import REPO_ROOT
from config.naming import NS
from config.stack_file import ConfigDoc
from ops import data_ops
from ops.automation.ledger import new_op_id
from ops.automation.snapshots import Snapshot
from ops.automation.stack_runner import StackRunner
from ops.switch.collaborators import Collaborators
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
    done = subprocess.run(argv, env=data_ops.step_environment(env), capture_output=True, text=True,
                          timeout=timeout, cwd=str(REPO_ROOT))
    return result_of(done.stdout) or {"healthy": False, "failures": [done.stderr[-500:]]}


@dataclass
class _Rollback:
    """One rollback in progress: its target, the database it abandons, its budget and report."""
    runner: StackRunner
    target: Snapshot
    c: Collaborators
    op_id: str
    current: object                # the abandoned state's ReleaseSettings
    current_doc: ConfigDoc
    maintenance_on: bool
    backups: dict[str, dict]
    baselines: dict[str, str]
    server: object
    budget_seconds: float
    log: Callable[[str], None]
    started: float
    deadline: float
    report: dict

    @property
    def settings(self):
        return self.target.settings

    def step(self, name: str, action: Callable[[], object]):
        """Runs one step of the rollback, recorded in its phases whether it succeeds or not."""
        clock = self.c.clock
        t0, at = clock.monotonic(), clock.now_iso()
        try:
            return action()
        finally:
            self.report["phases"].append({"name": name, "start": at, "end": clock.now_iso(),
                                          "seconds": round(clock.monotonic() - t0, 3)})

    def remaining(self) -> float:
        """The budget left, as the next data operation's timeout; none left fails the rollback."""
        left = self.deadline - self.c.clock.monotonic()
        if left <= 0:
            raise RollbackFailed(f"rollback over its {self.budget_seconds:.0f} s budget")
        return left


def rollback(runner: StackRunner, target: Snapshot, *, reason: str, current_doc: ConfigDoc,
             maintenance_on: bool, backups: dict[str, dict], baselines: dict[str, str],
             budget_seconds: float = 600.0, log=print, write_stack_file: bool = False,
             collaborators: Collaborators | None = None) -> dict:
    """Returns the rollback report; raises RollbackFailed (with the report) when it cannot
    bring the snapshot back healthy and verified.

    backups: database -> manifest of the backup taken under maintenance for that database
    baselines: database -> path of a post-migration baseline (steps.data_check)
    collaborators: the clock, data operations and health gate (ops/switch/collaborators.py;
    production's by default)
    """
    back = _begin(runner, target, reason, current_doc, maintenance_on, backups, baselines,
                  budget_seconds, log, collaborators or Collaborators())
    try:
        _keep_abandoned_writes(back)
        _restore(back, _databases_to_restore(back))
        _reapply_healthy(back)
        _verify(back)
        if write_stack_file:
            target.doc.write(runner.stack_file)
            back.report["stackFile"] = (f"{runner.stack_file} now holds update {target.version}'s "
                                        "configuration")
        back.report["result"] = "succeeded"
    except (RollbackFailed, data_ops.DataOperationError, subprocess.TimeoutExpired) as failure:
        back.report["result"] = "failed"
        back.report["error"] = str(failure)
        log(f"rollback FAILED: {failure}")
    return _finish(back, reason)


def _begin(runner, target, reason, current_doc, maintenance_on, backups, baselines,
           budget_seconds, log, c: Collaborators) -> _Rollback:
    """The report opens and the budget's clock starts; nothing has changed yet."""
    from config.release_settings import load_release_settings

    op_id = new_op_id("rollback")
    started, clock = c.clock.now_iso(), c.clock.monotonic()
    settings = target.settings
    current = load_release_settings(runner.stack_name, current_doc.plain_values())
    server = data_ops.server_for(settings, target.doc.plain_values())
    report = {"opId": op_id, "stack": runner.stack_name, "toVersion": target.version,
              "release": settings.release, "databaseName": settings.live_database,
              "reason": reason, "started": started, "phases": [], "abandonedWrites": {},
              "restores": [], "verification": {}}
    log(f"rollback to update {target.version} (release {settings.release}, database "
        f"{settings.live_database}): {reason}")
    return _Rollback(runner, target, c, op_id, current, current_doc, maintenance_on, backups,
                     baselines, server, budget_seconds, log, clock, clock + budget_seconds, report)


def _keep_abandoned_writes(back: _Rollback) -> None:
    """Writes made to the abandoned database since the switch are counted and dumped first,
    so they are reported and kept, never silently dropped."""
    abandoned = back.current.live_database
    reference = back.backups.get(abandoned)
    if reference and not reference.get("archive") and abandoned not in back.baselines:
        # A fingerprint under maintenance (frozen.py): nothing to count writes
        # against document by document; the digests below compare the whole database.
        back.report["abandonedWrites"] = {"database": abandoned, "counted": False,
                                          "why": "only a fingerprint under maintenance is recorded: "
                                                 "compared with the database below"}
    elif abandoned in back.baselines or reference:
        counted = back.step("count-abandoned-writes", lambda: back.c.data.changes_since(
            back.server, abandoned,
            baseline_path=back.baselines.get(abandoned) if abandoned in back.baselines else None,
            archive_path=None if abandoned in back.baselines else reference["archive"],
            timeout=back.remaining()))
        entry = {"database": abandoned, **counted}
        if counted["changed"]:
            kept = back.step("keep-abandoned-writes", lambda: back.c.data.take_backup(
                back.server, back.settings, abandoned, f"{back.op_id}-abandoned",
                timeout=back.remaining()))
            entry["keptIn"] = kept["archive"]
            back.log(f"  {counted['changed']} document(s) written to {abandoned} after the switch "
                     f"are abandoned by this rollback; kept in {kept['archive']}")
        back.report["abandonedWrites"] = entry
    else:
        back.report["abandonedWrites"] = {"database": abandoned, "counted": False,
                                          "why": "no backup or baseline recorded for it"}


def _databases_to_restore(back: _Rollback) -> list[tuple[str, dict]]:
    """The snapshot's databases whose content differs from the backup recorded for them; one
    that differs from a fingerprint with no archive yet stops the rollback before any restore."""
    to_restore = []
    for database, manifest in back.backups.items():
        if database != back.settings.live_database:
            continue
        now = back.step(f"digest-{database}",
                        lambda: back.c.data.digests(back.server, database, back.remaining()))
        if compare(manifest["collections"], now):
            to_restore.append((database, manifest))
    for database, manifest in to_restore:
        if not manifest.get("archive"):   # a fingerprint under maintenance (frozen.py)
            raise RollbackFailed(
                f"{database} differs from its fingerprint under maintenance "
                f"({manifest['backupId']}) and no archive of that state exists yet: nothing "
                f"was restored; the pre-copy backup {manifest.get('preCopyBackup')} holds "
                f"it as it was before the switch's pre-copy")
    return to_restore


def _restore(back: _Rollback, to_restore: list[tuple[str, dict]]) -> None:
    """Maintenance on first when the services use a database about to be restored."""
    if to_restore and not back.maintenance_on and back.current.live_database in {d for d, _ in to_restore}:
        back.step("maintenance-on", lambda: _up(back.runner, back.current_doc.with_values(
            {f"{NS}:maintenance": True}), back.op_id, "maintenance-on", False, back.deadline))
    for database, manifest in to_restore:
        back.step(f"restore-{database}", lambda: back.c.data.restore(
            back.server, manifest["archive"], database, database, back.remaining()))
        back.report["restores"].append({"database": database, "backupId": manifest["backupId"],
                                        "archive": manifest["archive"]})
        back.log(f"  restored {database} from {manifest['backupId']}")


def _reapply_healthy(back: _Rollback) -> None:
    """The snapshot's configuration applied, then the health gate must pass."""
    doc = back.target.doc.copy()
    back.step("reapply", lambda: _up(back.runner, doc, back.op_id, "reapply", True, back.deadline))
    health_gate = back.c.health_gate or _health
    health = back.step("health-gate", lambda: health_gate(back.server, back.settings, back.remaining()))
    back.report["health"] = health
    if not health.get("healthy"):
        raise RollbackFailed("health gate failed after the rollback: "
                             + "; ".join(health.get("failures", [])))


def _verify(back: _Rollback) -> None:
    """Each database the services use equals its recorded backup (counts and content hashes)."""
    live = back.settings.live_database
    for database, manifest in back.backups.items():
        if database != live:
            continue
        problems = compare(manifest["collections"],
                           back.step(f"verify-{database}",
                                     lambda: back.c.data.digests(back.server, database, back.remaining())))
        back.report["verification"][database] = {
            "backupId": manifest["backupId"], "equal": not problems, "problems": problems,
            "documents": manifest.get("documents")}
        if problems:
            raise RollbackFailed(f"{database} differs from backup {manifest['backupId']}: "
                                 + "; ".join(problems))
    if live not in back.backups:
        back.report["verification"][live] = {
            "equal": None, "why": "no backup under maintenance recorded for this database "
                                  "(the switch failed before taking it): nothing was restored"}


def _finish(back: _Rollback, reason: str) -> dict:
    """The report written and entered in the ledger whatever the outcome; a failure raises."""
    report, clock = back.report, back.c.clock
    report["ended"] = clock.now_iso()
    report["seconds"] = round(clock.monotonic() - back.started, 3)
    back.runner.ledger.append({"kind": "rollback", "opId": back.op_id, "toVersion": back.target.version,
                               "result": report["result"], "reason": reason,
                               "report": str(_write(back.runner, back.op_id, report))})
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
