"""After a killed command: what it left, cleared before the next one changes the stack, and
what undoing an interrupted switch exactly means.

`prepare` runs first in switch, rollback, refresh-staging and deploy, before any planning:
  1. the stack's ops lock (ops/stack_lock.py): a second command refuses here, having done
     nothing;
  2. the processes a dead ops run left (the pulumi CLI, its language host and plugins, a release
     step), found by the run's marker (ops/processes.py) and ended;
  3. Pulumi's lock of a dead pulumi removed, a live one refused (ops/automation/pulumi_state.py);
  4. pending operations resolved by a refresh;
  5. containers the state holds that are not running (a killed gateway) refreshed, so the
     update that follows starts them again without an operator's `pulumi refresh`.
Each is said to the operator as it is done.

`undo_arguments` turns the journal of an interrupted switch (ops/journal.py) into the rollback
that undoes exactly it: back to its `fromVersion`, from the configuration its last started
phase applied, with the backups under maintenance and the baselines that switch recorded.
"""
from __future__ import annotations

from ops import journal as journals
from ops import processes
from ops.automation import pulumi_state, snapshots
from ops.stack_lock import StackLock

GUARDED_VERBS = ("switch", "rollback", "refresh-staging", "deploy")


def dead_runs(runner, previous_holder: dict | None) -> list[str]:
    """Runs of ops that ended without finishing on this stack (journal, lock's last holder)."""
    runs = []
    entry = journals.Journal(runner.ledger.root).read()
    for run in ((entry or {}).get("run"), (previous_holder or {}).get("run")):
        if run and run not in runs and not processes.alive(run) and run != processes.identity():
            runs.append(run)
    return runs


def prepare(runner, verb: str, log) -> StackLock:
    """The stack's lock, then the leftovers of a killed command cleared; returns the lock."""
    lock = StackLock(runner.ledger.root, runner.stack_name).acquire(verb)
    try:
        for run in dead_runs(runner, lock.previous):
            ended = processes.end(run)
            if ended:
                log(f"ops: ended {len(ended)} process(es) a killed ops run ({run}) left: "
                    + "; ".join(f"{pid} {command[:60]}" for pid, command in ended))
        pulumi_state.clear_stale_locks(runner.env.state, runner.project, runner.stack_name, log)
        pulumi_state.resolve_pending(runner.stack, log)
        docker_host = runner.desired().plain_values().get("meeshy:dockerHost")
        pulumi_state.refresh_stopped_containers(runner.stack, log,
                                                pulumi_state.docker_running(docker_host))
    except BaseException:
        lock.release()
        raise
    return lock


def last_started(entry: dict) -> str | None:
    phases = entry.get("phases") or []
    return phases[-1]["name"] if phases else None


def backups_under_maintenance(runner, entry: dict) -> dict[str, dict]:
    """The backups the switch took under maintenance (a plain switch's `backup` phase)."""
    found = {}
    for name in journals.phases_done(entry):
        update = runner.ledger.phase_update(entry["opId"], name) or {}
        backup = (update.get("release") or {}).get("backup") or {}
        if name == "backup" and backup.get("archive"):
            found[backup["database"]] = backup
    return found


def baselines_of(runner, op_id: str) -> dict[str, str]:
    folder = runner.ledger.root / "baselines"
    prefix, suffix = f"{op_id}-", ".json.gz"
    return {path.name[len(prefix):-len(suffix)]: str(path)
            for path in sorted(folder.glob(f"{prefix}*{suffix}"))} if folder.is_dir() else {}


def undo_arguments(runner, entry: dict) -> dict:
    """rollback()'s arguments that undo the interrupted switch `entry` exactly."""
    from config.release_settings import load_release_settings
    from config.stack_file import ConfigDoc

    if not entry.get("fromVersion"):
        raise snapshots.SnapshotError(
            f"switch {entry['opId']} started from nothing deployed: there is no update to go back to")
    target = snapshots.by_version(runner, entry["fromVersion"])
    phase = last_started(entry)
    scratch = runner.ledger.root / "scratch" / f"{entry['opId']}-{phase}.yaml"
    current_doc = ConfigDoc.read(scratch) if phase and scratch.is_file() else target.doc
    current = load_release_settings(runner.stack_name, current_doc.plain_values())
    return {"target": target, "current_doc": current_doc,
            "maintenance_on": current.maintenance or "maintenance-on" in journals.phases_done(entry),
            "backups": backups_under_maintenance(runner, entry),
            "baselines": baselines_of(runner, entry["opId"]),
            "reason": f"undoes switch {entry['opId']}, interrupted in phase {phase}"}
