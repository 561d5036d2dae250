"""An interrupted takeover switch (`switch --takeover AUDIT_DIR` killed at any moment): what its
journal records, and the `rollback` that undoes exactly it.

The journal (ops/journal.py) of a takeover switch plans `takeover` before the stack's phases
and records where the takeover's record will be: the audit directory, the compose project and
the records already there (`journal_facts`), then the takeover's operation id once it returned.
The takeover writes its record before it stops anything (takeover/compose/handover.py), so:

- no new record in the audit directory: the kill came before the takeover recorded, compose was
  never stopped and there is nothing to give back;
- otherwise the record of this takeover (its id, else the one record that appeared since the
  switch started) is what production is given back from: the way a failed takeover switch goes
  back (ops/switch/takeover.give_back_to_compose: the stack's containers removed, never a
  volume; compose re-created from the record and checked ready; the stack's state refreshed),
  after the stack's own rollback to the switch's `fromVersion` when it had one and a phase of
  the stack had started.

Such a switch is never resumed: the compose containers it stopped come back only from its
record, and a new takeover needs the compose deployment running as the audit saw it. `status`
names `rollback`, and the takeover switch can be run again once compose is back.
"""
from __future__ import annotations

import json
from pathlib import Path

from ops.automation import snapshots
from ops.automation.ledger import new_op_id
from ops.switch import recover
from ops.switch.rollback import RollbackFailed, rollback

RECORDS = "takeover-*.json"


def _records(audit_dir: Path) -> list[str]:
    return sorted(p.name for p in Path(audit_dir).glob(RECORDS) if not p.name.endswith("-restore.json"))


def journal_facts(audit_dir: Path, compose_project: str) -> dict:
    """What the journal of a takeover switch records before anything stops."""
    return {"auditDir": str(Path(audit_dir).resolve()), "composeProject": compose_project,
            "recordsBefore": _records(audit_dir)}


def is_takeover(entry: dict | None) -> bool:
    return bool(entry) and entry.get("takeover") is not None


def record_of(entry: dict) -> Path | None:
    """The record the interrupted takeover wrote (None: it stopped nothing)."""
    facts = entry.get("takeover") or {}
    folder = Path(facts.get("auditDir") or ".")
    if entry.get("takeoverOpId"):
        return folder / f"{entry['takeoverOpId']}.json"
    new = [name for name in _records(folder) if name not in set(facts.get("recordsBefore") or [])]
    if len(new) > 1:
        raise snapshots.SnapshotError(
            f"{folder} holds {len(new)} takeover records written since switch {entry['opId']} "
            f"started ({', '.join(new)}): bring back the right one with `python -m "
            "takeover.compose.handover restore RECORD` (nothing was changed)")
    return folder / new[0] if new else None


def what_rollback_does(entry: dict) -> str:
    """The sentence `status` gives after an interrupted takeover switch."""
    facts = entry.get("takeover") or {}
    stack_back = (f"the stack back to update {entry['fromVersion']}, then "
                  if entry.get("fromVersion") and _stack_started(entry) else "")
    return (f"undoes exactly it: {stack_back}the stack's containers removed (never a volume) and "
            f"the compose deployment recorded in {facts.get('auditDir')} re-created and checked "
            "ready (a takeover switch is not resumed: what it stopped comes back only from its "
            "record; run the takeover switch again once compose is back)")


def _stack_started(entry: dict) -> bool:
    return any(p["name"] != "takeover" for p in entry.get("phases") or [])


def undo(runner, journal, entry: dict, *, confirm, budget_seconds: float, log) -> dict | None:
    """`rollback` after an interrupted takeover switch; None when not confirmed, RollbackFailed
    (with the report) when production is not back on compose."""
    from ops.switch.takeover import give_back_stack
    from takeover.compose import restore as compose_restore

    record = record_of(entry)
    target = (snapshots.by_version(runner, entry["fromVersion"])
              if entry.get("fromVersion") and _stack_started(entry) else None)
    if not confirm(f"rollback {runner.stack_name}: undo takeover switch {entry['opId']} "
                   f"(interrupted): " + what_rollback_does(entry).split(": ", 1)[1]):
        return None
    journal.begin("rollback", new_op_id("rollback"), plan=["rollback"],
                  toVersion=target.version if target else None, fromRelease=entry.get("release"),
                  release=target.settings.release if target else None,
                  fromVersion=entry.get("fromVersion"), undoes=entry)
    report = {"undid": {"opId": entry["opId"], "interruptedIn": recover.last_started(entry),
                        "takeover": str(record) if record else None}, "stack": None}
    if target is not None:
        arguments = recover.undo_arguments(runner, entry)
        arguments.pop("target")
        try:
            report["stack"] = rollback(runner, target, budget_seconds=budget_seconds, log=log,
                                       **arguments)
        except RollbackFailed as failed:
            report["stack"] = failed.report or {"result": "failed", "error": str(failed)}
    if record is None:
        report["compose"] = {"result": "not needed", "why": "killed before the takeover recorded "
                             "anything: no compose container was stopped"}
    else:
        report["compose"] = give_back_stack(
            runner, json.loads(record.read_text()),
            lambda: compose_restore.restore(record, deadline_seconds=budget_seconds, log=log), log)
    ok = (report["compose"]["result"] in ("restored", "not needed")
          and (report["stack"] is None or report["stack"].get("result") == "succeeded"))
    report["result"] = "succeeded" if ok else "failed"
    journal.finish(report["result"])
    if not ok:
        raise RollbackFailed(f"undoing takeover switch {entry['opId']} failed: compose "
                             f"{report['compose']['result']}", report)
    return report
