"""How a switch ends (ops/switch/run.py decides which): its decided values written back after a
success; after a failure, the stack rolled back, maintenance switched off whatever the rollback's
outcome, production given back to compose after a takeover; the report recorded either way.
Each takes the switch in progress (run.py's _Switch)."""
from __future__ import annotations

import json

from config import stack_edits as edit
from ops.switch.plan import written_back
from ops.switch.rollback import RollbackFailed, rollback


def succeed(switch) -> None:
    """The values the switch decided (the migration's pass) are written back to the stack's
    configuration, so the next preview starts from them."""
    for path, value in written_back(switch.phases).items():
        switch.runner.stack.set_config(path, _config_value(value), path=True)
    switch.report["result"] = "succeeded"
    switch.report["toVersion"] = switch.report["phases"][-1]["version"]


def roll_back_stack(switch, failure: str, budget_seconds: float, log) -> None:
    """The deployed snapshot re-applied, with the backups and baselines this switch recorded."""
    report = switch.report
    if switch.deployed is None:
        report["rollback"] = {"result": "skipped", "why": "nothing was deployed before this switch"}
        return
    roll_back = switch.c.rollback or rollback
    try:
        report["rollback"] = roll_back(
            switch.runner, switch.deployed, reason=f"automatic, {failure}",
            current_doc=switch.current_doc, maintenance_on=switch.maintenance_on,
            backups=switch.maintenance_backups, baselines=switch.baselines,
            budget_seconds=budget_seconds, log=log, collaborators=switch.c)
        report["result"] = "rolled back"
    except RollbackFailed as error:
        report["rollback"] = error.report or {"result": "failed", "error": str(error)}
        report["result"] = "failed, rollback failed"


def switch_maintenance_off(switch, budget_seconds: float) -> None:
    """Maintenance is always switched off again, even when the rollback failed."""
    base = switch.deployed.doc if switch.deployed else switch.phases[0].doc
    last = switch.runner.up(base.with_values(edit.maintenance(False)), op_id=switch.op_id,
                            phase="maintenance-off-final", snapshot=False,
                            deadline=switch.c.clock.monotonic() + budget_seconds)
    switch.report["maintenanceOff"] = {"ok": last.ok, "error": last.error, "version": last.version}


def record(switch) -> dict:
    """The report written to the state's reports/ and the switch entered in the ledger, which is
    where `rollback` later finds the backups and baselines."""
    report, clock, ledger = switch.report, switch.c.clock, switch.runner.ledger
    report["ended"] = clock.now_iso()
    report["seconds"] = round(clock.monotonic() - switch.started, 3)
    path = ledger.report_path(switch.op_id)
    path.write_text(json.dumps(report, indent=2, sort_keys=True, default=str))
    ledger.append({"kind": "switch", "opId": switch.op_id, "fromVersion": report["fromVersion"],
                   "toVersion": report.get("toVersion"), "result": report["result"],
                   "release": switch.desired.release, "backups": switch.maintenance_backups,
                   "baselines": switch.baselines, "report": str(path)})
    report["reportPath"] = str(path)
    if switch.journal is not None:
        switch.journal.finish(report["result"], report=str(path))
    return report


def give_back(runner, report: dict, taken: dict, undo_takeover, remove_stack, refresh_state,
               log) -> None:
    """Production goes back to compose; an `up` (maintenance off) is not run first since it
    would re-create the stack's containers on the volumes compose needs."""
    from ops.switch import takeover as switch_takeover

    if undo_takeover is None:
        compose = {"result": "failed", "error": "no way to restore the compose deployment was given"}
    else:
        compose = switch_takeover.give_back_stack(runner, taken, undo_takeover, log,
                                                  remove_stack=remove_stack,
                                                  refresh_state=refresh_state)
    report["rollback"] = {**(report["rollback"] or {}), "compose": compose}
    if compose["result"] != "restored":
        report["result"] = "failed, rollback failed"
    elif report["result"] == "failed":
        report["result"] = "rolled back"


def _config_value(value):
    from pulumi.automation import ConfigValue
    return ConfigValue(value=str(value))
