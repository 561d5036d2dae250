"""rollback STACK --to-compose AUDIT_DIR: production goes back to the compose deployment that a
takeover switch replaced, after that switch succeeded (a failed one gives it back by itself,
ops/switch/run.py). The order:

1. the writes the stack's services made since the switch: the live database is compared with
   the switch's post-migration baseline and dumped into the stack's backup folder (`keptIn`)
   while the stack's database still runs; compose reads the legacy database, not the migrated
   one, so they are reported and kept, never silently dropped (`readByCompose` true: the stack
   served the legacy database itself, and compose comes back with those writes in it);
2. the stack's containers are stopped and removed by label, never a volume
   (ops/switch/takeover.remove_stack_containers);
3. the compose deployment is re-created from the takeover's record and checked ready and
   identical to it (takeover/compose/restore.py);
4. the stack's state is refreshed, so it no longer lists the removed containers.

The stack's history is left as it is: a later `switch --takeover` starts from it.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

from ops import data_ops
from ops.automation import snapshots
from ops.automation.ledger import new_op_id, now_iso
from ops.automation.stack_runner import StackRunner
from ops.switch.collaborators import Collaborators
from takeover.compose.record import TakeoverError, latest_record

KEEP_TIMEOUT_SECONDS = 600.0


def takeover_of(audit_dir: Path) -> dict:
    """The masked record of the newest takeover in AUDIT_DIR, refused unless it took over."""
    path = latest_record(Path(audit_dir))
    taken = json.loads(path.read_text())
    if taken.get("result") != "taken over":
        raise TakeoverError(f"{path} records a takeover that ended {taken.get('result')!r}, not "
                            "'taken over': nothing to roll back from (python -m "
                            "takeover.compose.handover restore brings back what it recorded)")
    return taken


def keep_abandoned_writes(runner: StackRunner, current: snapshots.Snapshot, op_id: str,
                          log: Callable[[str], None], data: Any = data_ops) -> dict:
    """Counts the live database's writes since the switch's baseline and dumps the database
    (`data`: ops/data_ops.py, or what the collaborators hand over)."""
    settings = current.settings
    server = data_ops.server_for(settings, current.doc.plain_values())
    live = settings.live_database
    baseline = _latest_baseline(runner, live)
    entry: dict = {"database": live}
    if baseline:
        entry.update(data.changes_since(server, live, baseline_path=Path(baseline),
                                        timeout=KEEP_TIMEOUT_SECONDS))
    else:
        entry.update(counted=False, why=f"no switch recorded a baseline of {live}")
    kept = data.take_backup(server, settings, live, f"{op_id}-abandoned",
                            timeout=KEEP_TIMEOUT_SECONDS)
    entry["keptIn"] = kept.get("archive")
    # Without a migration the stack served compose's own database: compose comes back with
    # those writes in it (the archive is the copy, not the only one).
    legacy = settings.migration.source_database if settings.migration else live
    entry["readByCompose"] = live == legacy
    log(f"  {entry.get('changed', 'uncounted')} document(s) written to {live} since the switch; "
        f"{live} kept in {entry['keptIn']}"
        + ("; compose serves this same database, with those writes" if entry["readByCompose"] else ""))
    return entry


def _latest_baseline(runner: StackRunner, database: str) -> str | None:
    found = None
    for entry in runner.ledger.entries("switch"):
        if entry.get("result") == "succeeded" and database in (entry.get("baselines") or {}):
            found = entry["baselines"][database]
    return found


def rollback_to_compose(runner: StackRunner, audit_dir: Path, *, confirm: Callable[[str], bool],
                        restore_seconds: float, log: Callable[[str], None] = print,
                        collaborators: Collaborators | None = None) -> dict | None:
    """None when not confirmed; the report otherwise (result `restored` or `failed`).
    `collaborators`: the snapshots and data operations (ops/switch/collaborators.py)."""
    from ops.switch import takeover as switch_takeover
    from takeover.compose import restore as compose_restore

    c = collaborators or Collaborators()
    taken = takeover_of(audit_dir)
    current = c.snapshots.current(runner)
    if not confirm(f"rollback {runner.stack_name} to compose project {taken.get('project')!r} as "
                   f"recorded by {taken['opId']}: the stack's containers stop and are removed"):
        return None
    op_id = new_op_id("rollback")
    report = {"opId": op_id, "stack": runner.stack_name, "kind": "to-compose",
              "takeover": taken["opId"], "started": now_iso(), "abandonedWrites": None}
    if current is not None:
        try:
            report["abandonedWrites"] = keep_abandoned_writes(runner, current, op_id, log, c.data)
        except data_ops.DataOperationError as error:
            # Nothing has stopped yet: refusing keeps the new production serving.
            report.update(result="failed", failedStep="keep-abandoned-writes", error=str(error))
            return _record(runner, report)
    given = switch_takeover.give_back_stack(
        runner, taken, lambda: compose_restore.restore(Path(audit_dir), deadline_seconds=restore_seconds,
                                                       log=log), log)
    report.update(compose=given, result=given["result"])
    if given["result"] != "restored":
        report.update(failedStep=given.get("failedStep"), error=given.get("error"))
    return _record(runner, report)


def _record(runner: StackRunner, report: dict) -> dict:
    report["ended"] = now_iso()
    path = runner.ledger.report_path(report["opId"])
    path.write_text(json.dumps(report, indent=2, sort_keys=True, default=str))
    runner.ledger.append({"kind": "rollback-to-compose", "opId": report["opId"],
                          "takeover": report["takeover"], "result": report["result"],
                          "report": str(path)})
    report["reportPath"] = str(path)
    return report
