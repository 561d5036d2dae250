"""Rollback: re-apply a previous snapshot (configuration: images, settings, the database the
services use), restoring its database from the backup recorded for it when it changed since.

    0. every backup archive it may read checked against its manifest's sha256: a bad one
       stops it before any change, named with the other backups of that database
    1. abandoned writes (ops/switch/abandoned.py): the database the abandoned state's services
       used is compared with its baseline; changed documents are counted per collection, the
       database is dumped and the dump read back by id, so the writes are kept, never dropped
    2. maintenance on (only when a database the services are using must be restored)
    3. restore every database of the snapshot whose content differs from its recorded backup
    4. verification, before any write can reach it: each database equals its recorded backup
       (counts and content hashes; one not restored was just compared)
    5. up with the snapshot's configuration (maintenance as it records, normally off; under
       maintenance it is kept on for this update)
    6. health gate (the same command the HealthGate component runs), then under maintenance
       up with the snapshot as recorded (that first update is `reapply-in-maintenance`, this
       one `reapply`, the state history shows)
    The migration target the rollback abandons (the snapshot does not use it) is emptied once its
    dump holds all of it, under maintenance and before the re-apply (whose migration step would
    otherwise find documents it did not write), so the next switch starts on an empty target.
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
from ops.switch import abandoned
from ops.switch.collaborators import Collaborators
from steps.digest import compare
from steps.protocol import result_of


class RollbackFailed(RuntimeError):
    def __init__(self, message: str, report: dict | None = None):
        super().__init__(message)
        self.report = report


def _health(server, settings, timeout: float) -> dict:
    """The HealthGate component's command on the same endpoints (every service, not only the
    database: in Docker mode the configured endpoints are empty and the containers are probed)."""
    from components.release.release import gate_endpoints
    argv = rc.health_gate_command(server, deadline_seconds=settings.health.deadline_seconds,
                                  interval_seconds=settings.health.interval_seconds,
                                  endpoints=gate_endpoints(settings))
    env = {rc.HEALTH_MONGO_ENV: server.database_uri(settings.live_database)}
    done = subprocess.run(argv, env=data_ops.step_environment(env), capture_output=True, text=True,
                          timeout=timeout, cwd=str(REPO_ROOT))
    return result_of(done.stdout) or {"healthy": False,
                                      "failures": [data_ops.redacted(done.stderr[-500:])]}


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
    compared: dict | None = None    # database -> digests read before any restore

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
        _check_backups(back)
        emptying = abandoned.to_empty(back)
        if emptying:       # its writes are kept whole only once none can come in
            _maintenance_on(back)
        abandoned.keep(back)
        _restore(back, _databases_to_restore(back))
        _verify(back)          # still under maintenance (or untouched): nothing writes it yet
        if emptying:       # before the re-apply, whose own migration step may write it again
            abandoned.empty(back, emptying)
        _reapply_healthy(back)
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


def _check_backups(back: _Rollback) -> None:
    """Every archive the rollback may read, checked against its manifest before any change."""
    for database, manifest in back.backups.items():
        if manifest.get("archive") and database in (back.settings.live_database,
                                                    back.current.live_database):
            back.step(f"checksum-{database}", lambda: back.c.data.verify_archive(
                manifest["archive"], manifest.get("sha256"), back.server))


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
        else:
            back.compared = {**(back.compared or {}), database: now}
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
    if to_restore and back.current.live_database in {d for d, _ in to_restore}:
        _maintenance_on(back)
    for database, manifest in to_restore:
        back.step(f"restore-{database}", lambda: back.c.data.restore(
            back.server, manifest["archive"], database, database, back.remaining()))
        back.report["restores"].append({"database": database, "backupId": manifest["backupId"],
                                        "archive": manifest["archive"]})
        back.log(f"  restored {database} from {manifest['backupId']}")


def _maintenance_on(back: _Rollback) -> None:
    """The abandoned state's services in maintenance (once): no write comes in any more."""
    if back.maintenance_on:
        return
    back.step("maintenance-on", lambda: _up(back.runner, back.current_doc.with_values(
        {f"{NS}:maintenance": True}), back.op_id, "maintenance-on", False, back.deadline))
    back.maintenance_on = True


def _reapply_healthy(back: _Rollback) -> None:
    """The snapshot's configuration applied, then the health gate must pass. Under maintenance,
    a snapshot that ends it is applied with maintenance kept on, gated, and only then applied
    as recorded: in one update the page went as the containers were being replaced, and
    clients got 404s (no healthy gateway routed yet) or writes answered by the old release."""
    doc = back.target.doc.copy()
    key = f"{NS}:maintenance"
    held = back.maintenance_on and not doc.get_path(key)
    first, name = (doc.with_values({key: True}), "reapply-in-maintenance") if held else (doc, "reapply")
    back.step(name, lambda: _up(back.runner, first, back.op_id, name, not held, back.deadline))
    health_gate = back.c.health_gate or _health
    health = back.step("health-gate", lambda: health_gate(back.server, back.settings, back.remaining()))
    back.report["health"] = health
    if not health.get("healthy"):
        raise RollbackFailed("health gate failed after the rollback: "
                             + "; ".join(health.get("failures", [])))
    if held:    # the snapshot as recorded: history shows it as the rollback's `reapply`
        back.step("reapply", lambda: _up(back.runner, doc, back.op_id, "reapply", True,
                                         back.deadline))


def _verify(back: _Rollback) -> None:
    """Each database the services use equals its recorded backup (counts and content hashes)."""
    live = back.settings.live_database
    for database, manifest in back.backups.items():
        if database != live:
            continue
        now = (back.compared or {}).get(database) or back.step(
            f"verify-{database}", lambda: back.c.data.digests(back.server, database, back.remaining()))
        problems = compare(manifest["collections"], now)
        back.report["verification"][database] = {
            "backupId": manifest["backupId"], "equal": not problems, "problems": problems,
            "documents": manifest.get("documents")}
        if problems:
            raise RollbackFailed(f"{database} differs from backup {manifest['backupId']}: "
                                 + "; ".join(problems))
    if live not in back.backups:
        never_left = (back.current.live_database == live
                      or back.report["abandonedWrites"].get("abandoned") is False)
        back.report["verification"][live] = {
            "equal": None, "why": (
                "the services never left this database: nothing to restore" if never_left else
                "no backup under maintenance recorded for this database (the switch stopped before "
                "one was taken; writes were closed from maintenance-on): nothing was restored")}


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


def rollback_to(*args, **kwargs) -> dict | None:
    """The `rollback` verb lives in ops/switch/rollback_verb.py (kept here for its callers)."""
    from ops.switch.rollback_verb import rollback_to as verb
    return verb(*args, **kwargs)
