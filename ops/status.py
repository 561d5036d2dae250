"""`status STACK`: one sentence saying what is going on and what the next command will do.

It reads, without changing anything: the stack's ops lock (who holds it, alive), the journal of
the last switch or rollback (ops/journal.py: its phase, pid, start, alive or dead), Pulumi's
locks and pending operations, the processes a dead run left, and the deployed snapshot. The
report (`--json`) has the same facts and `next`, the one command to run (None: nothing to do).
"""
from __future__ import annotations

from ops import journal as journals
from ops import processes, stack_lock
from ops.automation import pulumi_state, snapshots
from ops.switch import takeover_undo
from ops.switch.recover import dead_runs


def _leftovers(runner) -> dict:
    locks = pulumi_state.locks(runner.env.state, runner.project, runner.stack_name)
    return {"pulumiLocks": [{"pid": lock.pid, "alive": lock.alive(), "since": lock.since}
                            for lock in locks],
            "pendingOperations": len(pulumi_state.pending_operations(runner.stack)),
            "orphanProcesses": [{"pid": pid, "command": command[:120]}
                                for run in dead_runs(runner, None)
                                for pid, command in processes.left_by(run)]}


def _left_words(left: dict, who: str = "that command") -> str:
    words = []
    if any(not lock["alive"] for lock in left["pulumiLocks"]):
        words.append("a stale Pulumi lock")
    if left["pendingOperations"]:
        words.append(f"{left['pendingOperations']} pending operation(s)")
    if left["orphanProcesses"]:
        words.append(f"{len(left['orphanProcesses'])} orphan process(es)")
    return (" It left " + ", ".join(words) + f", which {who} clears first.") if words else ""


def _interrupted(runner, entry: dict, left: dict) -> tuple[str, str]:
    stack, kind = runner.stack_name, entry["kind"]
    phase = journals.phase_in_flight(entry) or journals.next_phase(entry) or "its end"
    head = (f"Stack {stack}: {kind} {entry['opId']} ({entry.get('fromRelease')} -> "
            f"{entry.get('release')}, from update {entry.get('fromVersion')}) was interrupted in "
            f"phase {phase} (started {entry['started']} by pid {entry['pid']}, now dead).")
    if kind == "rollback":
        command = f"./meeshy rollback {stack} --yes"
        return command, f"{head} Next: `{command}` runs that rollback again.{_left_words(left)}"
    if takeover_undo.is_takeover(entry):
        command = f"./meeshy rollback {stack} --yes"
        return command, (f"{head.replace(f': {kind} ', ': takeover switch ', 1)} Next: `{command}` "
                         f"{takeover_undo.what_rollback_does(entry)}.{_left_words(left)}")
    unchanged = entry.get("stackFileSha256") == journals.doc_sha256(runner.desired())
    if unchanged:
        command = f"./meeshy switch {stack} --yes"
        what = (f"resumes it from phase {journals.next_phase(entry)} (the phases ended ok are "
                f"not run again); `./meeshy rollback {stack} --yes` would instead undo exactly it, "
                f"back to update {entry.get('fromVersion')}")
    else:
        command = f"./meeshy rollback {stack} --yes"
        what = (f"undoes exactly it, back to update {entry.get('fromVersion')} (the stack file "
                "changed since it started, so it cannot be resumed)")
    return command, f"{head} Next: `{command}` {what}.{_left_words(left)}"


def status(runner) -> dict:
    root, stack = runner.ledger.root, runner.stack_name
    entry = journals.Journal(root).read()
    holder = stack_lock.holder(root)
    left = _leftovers(runner)
    report = {"stack": stack, "journal": entry, "lockHolder": holder, **left, "next": None}
    if holder:
        phase = journals.phase_in_flight(entry) if journals.running(entry) else None
        report["state"] = "busy"
        report["sentence"] = (
            f"Stack {stack}: `{holder.get('verb')}` by pid {holder.get('pid')} (alive) since "
            f"{holder.get('since')}" + (f", in phase {phase}" if phase else "")
            + "; any other command refuses until it ends: wait, then run status again.")
    elif journals.interrupted(entry):
        report["state"] = "interrupted"
        report["next"], report["sentence"] = _interrupted(runner, entry, left)
    else:
        current = snapshots.current(runner)
        report["state"] = "idle"
        deployed = ("nothing is deployed" if current is None else
                    f"update {current.version} (release {current.settings.release} on database "
                    f"{current.settings.live_database}, maintenance "
                    f"{'on' if current.settings.maintenance else 'off'}) is deployed")
        last = (f"; the last {entry['kind']} {entry['opId']} ended {entry['finished']['result']}"
                if entry and entry.get("finished") else "")
        report["sentence"] = (f"Stack {stack}: idle, {deployed}{last}; nothing to recover."
                              + _left_words(left, "the next switch, rollback or deploy")
                              .replace(" It left", " A killed command left"))
    return report
