"""switch STACK: from the deployed snapshot to the stack file's configuration, phase by phase
(ops/switch/plan.py), each phase timed against the budget, rolling back automatically when a
phase fails or the budget runs out. Returns the switch report (JSON-ready):

    phases            name, start, end, seconds, update version, steps timed inside it
                      (backup, migration, healthGate)
    writeUnavailability  start/end/seconds: maintenance on until the new release is healthy
    backups           backups taken, by database, with the one a rollback returns to
    migration         the migration's summaries (full and delta passes)
    health            the health gate's answers
    rollback          the automatic rollback's report, if any
"""
from __future__ import annotations

import json
import time
from typing import Callable

from config.release_settings import load_release_settings
from ops import data_ops
from ops.automation import snapshots
from ops.automation.ledger import new_op_id, now_iso
from ops.automation.stack_runner import StackRunner
from ops.switch import frozen as switch_frozen
from ops.switch.plan import plan, written_back
from ops.switch.rollback import RollbackFailed, rollback

DEFAULT_BUDGET_SECONDS = 600.0


class SwitchAborted(RuntimeError):
    pass


def run_switch(runner: StackRunner, *, budget_seconds: float = DEFAULT_BUDGET_SECONDS,
               rollback_budget_seconds: float = DEFAULT_BUDGET_SECONDS,
               confirm: Callable[[str], bool] | None = None, log=print,
               takeover: Callable[[], dict] | None = None,
               undo_takeover: Callable[[], dict] | None = None,
               remove_stack: Callable[[list[str]], dict] | None = None,
               refresh_state: Callable[[], dict] | None = None,
               on_phase: Callable[[dict], None] | None = None) -> dict:
    """`takeover` (stop and remove the compose deployment the stack replaces) runs as
    the first phase, and the write-unavailability window starts with it. When the switch then
    fails (first takeover included: nothing deployed), after the stack's own rollback if any:
    `remove_stack(volumes)` removes the stack's containers, never its volumes (default: by label
    with the docker CLI, ops/switch/takeover.py), `undo_takeover` re-creates the compose
    deployment from the record, its readiness is checked, and `refresh_state` (default: a
    refresh of the stack) drops the removed containers from the stack's state. `on_phase(record)`
    is called as each phase ends (the rehearsal starts its load by it)."""
    desired_doc = runner.desired()
    desired = load_release_settings(runner.stack_name, desired_doc.plain_values())
    deployed = snapshots.current(runner)
    op_id = new_op_id("switch")
    phases = plan(deployed.doc if deployed else None, deployed.settings if deployed else None,
                  desired_doc, desired, op_id)
    live = (f"{deployed.settings.release} on {deployed.settings.live_database}" if deployed
            else "nothing deployed")
    summary = (f"switch stack {runner.stack_name!r}: {live}"
               f" -> {desired.release} on {desired.live_database}; phases: "
               + ", ".join(p.name for p in phases) + f"; budget {budget_seconds:.0f} s")
    log(summary)
    if confirm is not None and not confirm(summary):
        raise SwitchAborted("switch not confirmed; nothing was changed")

    report = {"opId": op_id, "stack": runner.stack_name, "release": desired.release,
              "databaseName": desired.live_database, "budgetSeconds": budget_seconds,
              "fromVersion": deployed.version if deployed else None,
              "fromRelease": deployed.settings.release if deployed else None,
              "started": now_iso(), "phases": [], "backups": {}, "migration": {},
              "health": None, "writeUnavailability": None, "rollback": None}
    clock = time.monotonic()
    deadline = clock + budget_seconds
    maintenance_backups: dict[str, dict] = {}
    baselines: dict[str, str] = {}
    fingerprints: list = []   # the frozen legacy database being read (frozen.py)
    window_start = None
    current_doc = deployed.doc if deployed else phases[0].doc
    maintenance_on = False
    failure = None
    taken = None     # the takeover's record, once it exists: compose then needs giving back
    if takeover is not None:
        t0, at = time.monotonic(), now_iso()
        window_start = (at, t0)
        try:
            report["takeover"] = taken = takeover()
        except Exception as error:     # noqa: BLE001 - any failure of it fails the switch
            failure = f"takeover failed: {error}"
            # A takeover that fails after recording carries its report: some containers may
            # be stopped already. One that refused before recording stopped nothing.
            taken = getattr(error, "report", None)
            report["takeover"] = {"result": "failed", "error": str(error),
                                  **({"record": taken} if taken else {})}
        report["phases"].append({"name": "takeover", "start": at, "end": now_iso(),
                                 "seconds": round(time.monotonic() - t0, 3), "version": None,
                                 "steps": {}, "ok": failure is None})
    for phase in phases if failure is None else []:
        if time.monotonic() >= deadline:
            failure = f"budget of {budget_seconds:g} s used up before phase {phase.name}"
            break
        result = runner.up(phase.doc, op_id=op_id, phase=phase.name, snapshot=phase.snapshot,
                           deadline=deadline)
        record = {"name": phase.name, "start": result.started, "end": result.ended,
                  "seconds": result.seconds, "version": result.version, "steps": result.steps,
                  "ok": result.ok}
        report["phases"].append(record)
        if on_phase is not None:
            on_phase(record)
        current_doc = phase.doc
        if phase.name == "maintenance-on" and result.ok:
            maintenance_on = True
            window_start = window_start or (result.ended, time.monotonic())
        if not result.ok:
            failure = f"phase {phase.name} failed: {result.error}"
            break
        release = result.outputs.get("release") or {}
        _collect(report, phase, release, maintenance_backups)
        if phase.baseline_after:
            t0 = time.monotonic()
            path = runner.ledger.baseline_path(op_id, phase.baseline_after)
            try:
                data_ops.baseline(data_ops.server_for(desired, phase.doc.plain_values()),
                                  phase.baseline_after, path, timeout=max(1.0, deadline - time.monotonic()))
            except data_ops.DataOperationError as error:
                failure = f"baseline of {phase.baseline_after} failed: {error}"
                break
            baselines[phase.baseline_after] = str(path)
            record["steps"]["baseline"] = round(time.monotonic() - t0, 3)
            record["seconds"] = round(record["seconds"] + record["steps"]["baseline"], 3)
        if phase.name == "release":
            report["health"] = release.get("health")
            if window_start:
                report["writeUnavailability"] = _window(window_start, result.ended)
            fingerprints += switch_frozen.start(phases, desired, maintenance_on, deadline)
    if not fingerprints:   # the switch stopped in the window: before its rollback
        fingerprints += switch_frozen.start(phases, desired, maintenance_on, deadline)
    switch_frozen.settle(fingerprints, report, op_id, maintenance_backups, log)
    if failure is None:   # outside the window: the legacy database archived, as fingerprinted
        switch_frozen.archive_fingerprinted(
            fingerprints, report, maintenance_backups,
            data_ops.server_for(desired, phases[-1].doc.plain_values()), desired, op_id, log)
    report["backupsUnderMaintenance"] = {db: m["backupId"] for db, m in maintenance_backups.items()}
    if failure is None:
        for path, value in written_back(phases).items():
            runner.stack.set_config(path, _config_value(value), path=True)
        report["result"] = "succeeded"
        report["toVersion"] = report["phases"][-1]["version"]
    else:
        log(f"switch failed: {failure}")
        report["result"] = "failed"
        report["failure"] = failure
        if deployed is None:
            report["rollback"] = {"result": "skipped", "why": "nothing was deployed before this switch"}
        else:
            try:
                report["rollback"] = rollback(
                    runner, deployed, reason=f"automatic, {failure}", current_doc=current_doc,
                    maintenance_on=maintenance_on, backups=maintenance_backups,
                    baselines=baselines, budget_seconds=rollback_budget_seconds, log=log)
                report["result"] = "rolled back"
            except RollbackFailed as error:
                report["rollback"] = error.report or {"result": "failed", "error": str(error)}
                report["result"] = "failed, rollback failed"
        if maintenance_on and report["result"] != "rolled back" and taken is None:
            # Maintenance is always switched off again, even when the rollback failed.
            base = deployed.doc if deployed else phases[0].doc
            last = runner.up(base.with_values({"meeshy:maintenance": False}), op_id=op_id,
                             phase="maintenance-off-final", snapshot=False,
                             deadline=time.monotonic() + rollback_budget_seconds)
            report["maintenanceOff"] = {"ok": last.ok, "error": last.error,
                                        "version": last.version}
        if taken is not None:
            _give_back(runner, report, taken, undo_takeover, remove_stack, refresh_state, log)
        if window_start and report["writeUnavailability"] is None:
            report["writeUnavailability"] = _window(window_start, now_iso())
    report["ended"] = now_iso()
    report["seconds"] = round(time.monotonic() - clock, 3)
    path = runner.ledger.report_path(op_id)
    path.write_text(json.dumps(report, indent=2, sort_keys=True, default=str))
    runner.ledger.append({"kind": "switch", "opId": op_id, "fromVersion": report["fromVersion"],
                          "toVersion": report.get("toVersion"), "result": report["result"],
                          "release": desired.release, "backups": maintenance_backups,
                          "baselines": baselines, "report": str(path)})
    report["reportPath"] = str(path)
    return report


def _give_back(runner, report: dict, taken: dict, undo_takeover, remove_stack, refresh_state,
               log) -> None:
    """Production goes back to compose; an `up` (maintenance off) is not run first since it
    would re-create the stack's containers on the volumes compose needs."""
    from ops.switch import takeover as switch_takeover

    if undo_takeover is None:
        compose = {"result": "failed", "error": "no way to restore the compose deployment was given"}
    else:
        remove_stack = remove_stack or (lambda volumes: switch_takeover.remove_stack_containers(
            runner.stack_name, keep_volumes=volumes, log=log))
        refresh_state = refresh_state or (lambda: refresh_state_of(runner))
        compose = switch_takeover.give_back_to_compose(
            taken, remove_stack=remove_stack, restore_compose=undo_takeover,
            refresh_state=refresh_state, log=log)
    report["rollback"] = {**(report["rollback"] or {}), "compose": compose}
    if compose["result"] != "restored":
        report["result"] = "failed, rollback failed"
    elif report["result"] == "failed":
        report["result"] = "rolled back"


def refresh_state_of(runner) -> dict:
    result = runner.stack.refresh(message="meeshy-ops refresh after giving production back to compose",
                                  color="never", suppress_progress=True, on_output=lambda line: None)
    return {"result": result.summary.result,
            "resourceChanges": dict(result.summary.resource_changes or {})}


def _collect(report: dict, phase, release: dict, maintenance_backups: dict) -> None:
    backup = release.get("backup") or {}
    if backup.get("backupId") and backup["backupId"] not in {
            b["backupId"] for items in report["backups"].values() for b in items}:
        entry = {**backup, "phase": phase.name, "underMaintenance": phase.backup_under_maintenance}
        report["backups"].setdefault(backup["database"], []).append(
            {k: entry[k] for k in ("backupId", "archive", "sha256", "sizeBytes", "documents",
                                   "phase", "underMaintenance") if k in entry})
        if phase.backup_under_maintenance:
            maintenance_backups[backup["database"]] = backup
    migration = release.get("migration")
    if migration and migration.get("report") not in {m.get("report") for m in report["migration"].values()}:
        report["migration"][phase.name] = migration


def _window(start: tuple[str, float], end_iso: str) -> dict:
    return {"start": start[0], "end": end_iso, "seconds": round(time.monotonic() - start[1], 3)}


def _config_value(value):
    from pulumi.automation import ConfigValue
    return ConfigValue(value=str(value))
