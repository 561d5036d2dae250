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


def refuse_unpreviewed(runner, go_on: bool) -> None:
    """A stack file changed since the last preview is refused unless the operator goes on."""
    changed = journals.changed_since_preview(runner.ledger.root, runner.desired())
    if changed and not go_on:
        raise snapshots.SnapshotError(
            f"{runner.stack_file.name} changed since the last preview ({changed}): run "
            f"`./meeshy preview {runner.stack_name}` again to see what the switch will do, or pass "
            "--unpreviewed to go on (nothing was changed)")


def check_backup_dir(runner) -> None:
    """Before any change: the backupDir the switch applies takes its backups."""
    from config.release_settings import load_release_settings
    from ops.data_ops import backup_dir_problem, server_for
    values = runner.desired().plain_values()
    desired = load_release_settings(runner.stack_name, values)
    database = desired.migration.source_database if desired.migration else desired.live_database
    problem = backup_dir_problem(desired, runner.ledger.latest_backup(database),
                                 server=server_for(desired, values))
    if problem:
        raise snapshots.SnapshotError(problem)


def interrupted_switch(runner, *, takeover: bool, log) -> dict | None:
    """The journal of the interrupted switch a `switch` resumes (None: a new switch)."""
    entry = journals.Journal(runner.ledger.root).read()
    if not journals.interrupted(entry):
        return None
    stack, refused = runner.stack_name, "(nothing was changed)"
    if entry["kind"] == "rollback":
        raise snapshots.SnapshotError(f"rollback {entry['opId']} was interrupted: `./meeshy rollback "
                                      f"{stack} --yes` runs it again first {refused}")
    from ops.switch.takeover_undo import is_takeover
    if is_takeover(entry):
        raise snapshots.SnapshotError(
            f"takeover switch {entry['opId']} was interrupted: a takeover switch is not resumed; "
            f"`./meeshy rollback {stack} --yes` gives production back to compose {refused}")
    if takeover:
        raise snapshots.SnapshotError(f"switch {entry['opId']} was interrupted: a takeover cannot "
                                      f"resume it; `./meeshy rollback {stack} --yes` undoes it {refused}")
    if entry.get("stackFileSha256") != journals.doc_sha256(runner.desired()):
        raise snapshots.SnapshotError(
            f"switch {entry['opId']} was interrupted in phase "
            f"{journals.phase_in_flight(entry) or journals.next_phase(entry)} and "
            f"{runner.stack_file.name} changed since it started: it cannot be resumed; "
            f"`./meeshy rollback {stack} --yes` undoes it {refused}")
    log(f"ops switch: resuming switch {entry['opId']} (interrupted, its pid {entry['pid']} is "
        f"dead) from phase {journals.next_phase(entry)}")
    return entry
