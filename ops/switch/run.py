"""switch STACK: from the deployed snapshot to the stack file's configuration, phase by phase
(ops/switch/plan.py), each phase timed against the budget, rolling back automatically when a
phase fails or the budget runs out. Returns the switch report (JSON-ready):

    phases            name, start, end, seconds, update version, steps timed inside it
                      (backup, migration, healthGate)
    writeUnavailability  start/end/seconds: from the start of the phase turning maintenance on
                      (or of a takeover)
                      to the end of maintenance-off (or of the rollback and maintenance off
                      after a failure): every moment a client's write may be refused
    backups           backups taken, by database, with the one a rollback returns to
    migration         the migration's summaries (full and delta passes)
    health            the health gate's answers
    rollback          the automatic rollback's report, if any
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from config.release_settings import ReleaseSettings, load_release_settings
from config.stack_file import ConfigDoc
from ops import data_ops
from ops import journal as journals
from ops.automation import snapshots  # noqa: F401 - tests and callers patch snapshots.current here
from ops.automation.ledger import new_op_id
from ops.automation.snapshots import Snapshot
from ops.automation.stack_runner import StackRunner
from ops.switch import baseline as switch_baseline
from ops.switch import frozen as switch_frozen
from ops.switch import outcome, prisma_pre_read
from ops.switch import resume as resume_steps
from ops.switch.collaborators import Collaborators
from ops.switch.plan import Phase, plan
from ops.switch.resume import collect
from ops.switch.rollback import RollbackFailed  # noqa: F401 - tests raise it from here

DEFAULT_BUDGET_SECONDS = 600.0
# The step that routes the public hosts to the maintenance page (components/platform/maintenance.py).
MAINTENANCE_ROUTE_STEP = "maintenance-route"


class SwitchAborted(RuntimeError):
    pass


@dataclass
class _Switch:
    """One switch in progress: what it was asked, and what it has done so far, which is what
    its failure path needs (the document to roll back from, whether maintenance is on, the
    backups and baselines recorded, the takeover record to give back)."""
    runner: StackRunner
    c: Collaborators
    op_id: str
    desired: ReleaseSettings
    deployed: Snapshot | None
    phases: list[Phase]
    budget_seconds: float
    current_doc: ConfigDoc
    report: dict = field(default_factory=dict)
    started: float = 0.0          # clock.monotonic() when the report was opened
    deadline: float = 0.0
    maintenance_backups: dict[str, dict] = field(default_factory=dict)
    baselines: dict[str, str] = field(default_factory=dict)
    fingerprints: list = field(default_factory=list)   # the frozen legacy database (frozen.py)
    window_start: tuple[str, float] | None = None
    maintenance_on: bool = False
    taken: dict | None = None     # the takeover's record, once it exists: compose then needs giving back
    pending_baseline: switch_baseline.PendingBaseline | None = None   # on its thread (baseline.py)
    journal: journals.Journal | None = None
    resumed: dict | None = None   # the journal of the interrupted switch this one resumes
    takeover_facts: dict | None = None   # a takeover switch's: where its record will be (journal)


def run_switch(runner: StackRunner, *, budget_seconds: float = DEFAULT_BUDGET_SECONDS,
               rollback_budget_seconds: float = DEFAULT_BUDGET_SECONDS,
               confirm: Callable[[str], bool] | None = None, log=print,
               takeover: Callable[[], dict] | None = None,
               undo_takeover: Callable[[], dict] | None = None,
               remove_stack: Callable[[list[str]], dict] | None = None,
               refresh_state: Callable[[], dict] | None = None,
               on_phase: Callable[[dict], None] | None = None,
               collaborators: Collaborators | None = None,
               resume: dict | None = None, takeover_facts: dict | None = None) -> dict:
    """`takeover` (stop and remove the compose deployment the stack replaces) runs as
    the first phase, and the write-unavailability window starts with it. When the switch then
    fails (first takeover included: nothing deployed), after the stack's own rollback if any:
    `remove_stack(volumes)` removes the stack's containers, never its volumes (default: by label
    with the docker CLI, ops/switch/takeover.py), `undo_takeover` re-creates the compose
    deployment from the record, its readiness is checked, and `refresh_state` (default: a
    refresh of the stack) drops the removed containers from the stack's state. `on_phase(record)`
    is called as each phase ends (the rehearsal starts its load by it). `collaborators`: the
    clock, snapshots, data operations and rollback (ops/switch/collaborators.py; production's
    by default). `resume`: the journal of an interrupted switch (ops/journal.py): the same
    operation planned again from its `fromVersion`, its phases ended ok not run again.
    `takeover_facts` (ops/switch/takeover_undo.journal_facts): journaled with a takeover, so
    that `rollback` can give production back to compose after a kill."""
    switch = _plan_switch(runner, budget_seconds, collaborators or Collaborators(), resume)
    if takeover is not None:
        switch.takeover_facts = dict(takeover_facts or {})
    _announce(switch, confirm, log)
    _open_report(switch)
    resume_steps.open_journal(switch)
    failure = _take_over(switch, takeover) if takeover is not None else None
    if failure is None:
        failure = _run_phases(switch, on_phase)
    baseline_failure = switch_baseline.settle(switch)   # a rollback needs it: always waited for
    failure = failure or baseline_failure
    if failure is None:
        failure = resume_steps.last_check(switch)
    _settle_frozen_legacy(switch, failure, log)
    if failure is None:
        outcome.succeed(switch)
    else:
        _fail(switch, failure, rollback_budget_seconds, log,
              undo_takeover=undo_takeover, remove_stack=remove_stack, refresh_state=refresh_state)
    return outcome.record(switch)


def _plan_switch(runner: StackRunner, budget_seconds: float, c: Collaborators,
                 resume: dict | None = None) -> _Switch:
    """The phases from the deployed snapshot to the stack file, decided before anything changes
    (a resumed switch: from the snapshot it started from, with its operation id, so every phase
    is the configuration it was)."""
    desired_doc = runner.desired()
    desired = load_release_settings(runner.stack_name, desired_doc.plain_values())
    if resume is None:
        deployed, op_id = c.snapshots.current(runner), new_op_id("switch")
    else:
        deployed = (c.snapshots.by_version(runner, resume["fromVersion"])
                    if resume.get("fromVersion") else None)
        op_id = resume["opId"]
    phases = plan(deployed.doc if deployed else None, deployed.settings if deployed else None,
                  desired_doc, desired, op_id)
    return _Switch(runner, c, op_id, desired, deployed, phases, budget_seconds,
                   current_doc=deployed.doc if deployed else phases[0].doc, resumed=resume)


def _announce(switch: _Switch, confirm: Callable[[str], bool] | None, log) -> None:
    """Says what will change, and stops here (nothing changed) unless it is confirmed."""
    deployed, desired = switch.deployed, switch.desired
    live = (f"{deployed.settings.release} on {deployed.settings.live_database}" if deployed
            else "nothing deployed")
    summary = (f"switch stack {switch.runner.stack_name!r}: {live}"
               f" -> {desired.release} on {desired.live_database}; phases: "
               + ", ".join(p.name for p in switch.phases) + f"; budget {switch.budget_seconds:.0f} s")
    log(summary)
    if confirm is not None and not confirm(summary):
        raise SwitchAborted("switch not confirmed; nothing was changed")


def _open_report(switch: _Switch) -> None:
    """The report starts, and the budget's clock with it, once the switch is confirmed."""
    deployed, clock = switch.deployed, switch.c.clock
    switch.report = {
        "opId": switch.op_id, "stack": switch.runner.stack_name, "release": switch.desired.release,
        "databaseName": switch.desired.live_database, "budgetSeconds": switch.budget_seconds,
        "fromVersion": deployed.version if deployed else None,
        "fromRelease": deployed.settings.release if deployed else None,
        "started": clock.now_iso(), "phases": [], "backups": {}, "migration": {},
        "health": None, "writeUnavailability": None, "rollback": None}
    switch.started = clock.monotonic()
    switch.deadline = switch.started + switch.budget_seconds


def _take_over(switch: _Switch, takeover: Callable[[], dict]) -> str | None:
    """The takeover phase: it opens the write-unavailability window. Returns the failure, if any."""
    clock, report = switch.c.clock, switch.report
    t0, at = clock.monotonic(), clock.now_iso()
    switch.window_start = (at, t0)
    failure = None
    switch.journal.phase_started("takeover")
    try:
        report["takeover"] = switch.taken = takeover()
    except Exception as error:     # noqa: BLE001 - any failure of it fails the switch
        failure = f"takeover failed: {error}"
        # A takeover that fails after recording carries its report: some containers may
        # be stopped already. One that refused before recording stopped nothing.
        switch.taken = getattr(error, "report", None)
        report["takeover"] = {"result": "failed", "error": str(error),
                              **({"record": switch.taken} if switch.taken else {})}
    if (switch.taken or {}).get("opId"):
        switch.journal.note(takeoverOpId=switch.taken["opId"])
    switch.journal.phase_ended("takeover", failure is None)
    report["phases"].append({"name": "takeover", "start": at, "end": clock.now_iso(),
                             "seconds": round(clock.monotonic() - t0, 3), "version": None,
                             "steps": {}, "ok": failure is None})
    return failure


def _run_phases(switch: _Switch, on_phase: Callable[[dict], None] | None) -> str | None:
    """The planned phases in order, each only if the budget is not used up. Returns the
    failure that stopped them, if any."""
    done = journals.phases_done(switch.resumed) if switch.resumed else []
    for phase in switch.phases:
        if phase.name in done:
            resume_steps.replay(switch, phase)
            continue
        if switch.c.clock.monotonic() >= switch.deadline:
            return f"budget of {switch.budget_seconds:g} s used up before phase {phase.name}"
        if phase.snapshot:     # writes reopen: the baseline must be done (baseline.py)
            failure = switch_baseline.settle(switch)
            if failure is not None:
                return failure
        switch.journal.phase_started(phase.name)
        failure = _run_phase(switch, phase, on_phase)
        switch.journal.phase_ended(phase.name, failure is None, switch.report["phases"][-1]["version"])
        if failure is not None:
            return failure
    return None


def _run_phase(switch: _Switch, phase: Phase, on_phase: Callable[[dict], None] | None) -> str | None:
    """One update of the stack, recorded as it ends; what the switch learns from it (maintenance
    on, backups, migration, baseline, the window's end) is kept for the rest and for a rollback."""
    t0 = switch.c.clock.monotonic()
    baseline = switch_baseline.PendingBaseline(switch, phase) if phase.baseline_after else None
    switch.pending_baseline = baseline or switch.pending_baseline
    result = switch.runner.up(phase.doc, op_id=switch.op_id, phase=phase.name,
                              snapshot=phase.snapshot, deadline=switch.deadline,
                              policy=phase.policy_pack,
                              on_step_done=baseline.on_step if baseline else None)
    record = {"name": phase.name, "start": result.started, "end": result.ended,
              "seconds": result.seconds, "version": result.version, "steps": result.steps,
              **({"timeline": result.timeline} if result.timeline else {}),
              "ok": result.ok}
    switch.report["phases"].append(record)
    if baseline is not None:
        baseline.record = record
    if on_phase is not None:
        on_phase(record)
    switch.current_doc = phase.doc
    if phase.opens_window:
        # Traefik may route to the maintenance page once its route's step begins: the window
        # opens when the phase starts, failed or not, and a failed phase whose route began may
        # have left the page routed.
        switch.window_start = switch.window_start or (result.started, t0)
        switch.maintenance_on = (switch.maintenance_on or result.ok
                                 or MAINTENANCE_ROUTE_STEP in result.begun)
    if not result.ok:
        return f"phase {phase.name} failed: {result.error}"
    release = result.outputs.get("release") or {}
    collect(switch.report, phase, release, switch.maintenance_backups)
    if phase.name == "backup-and-migrate":
        failure = prisma_pre_read.pre_read(switch, phase)
        if failure is not None:
            return failure
    if baseline is not None:      # the pass ran before this phase (a resumed switch): read it now
        baseline.start()
    if phase.name == "release":
        _release_healthy(switch, release)
        if result.outputs.get("schemaCheck"):
            switch.report["schemaCheck"] = result.outputs["schemaCheck"]
    if phase.name == "maintenance-off" and switch.window_start:
        switch.report["writeUnavailability"] = _window(switch, result.ended)
    return None


def _release_healthy(switch: _Switch, release: dict) -> None:
    """The release is healthy. The frozen legacy database's fingerprint waits for the window to
    close (_settle_frozen_legacy): read beside maintenance-off, it slowed that update's start,
    inside the window (frozen.py)."""
    switch.report["health"] = release.get("health")


def _start_fingerprint(switch: _Switch) -> list:
    return switch_frozen.start(switch.phases, switch.desired, switch.maintenance_on, switch.deadline,
                               data=switch.c.data, monotonic=switch.c.clock.monotonic)


def _settle_frozen_legacy(switch: _Switch, failure: str | None, log) -> None:
    """The fingerprint becomes the data a rollback returns to (started here, once the window
    closed or before the rollback when the switch stopped in it); after a success the archive
    replaces it."""
    if not switch.fingerprints:
        switch.fingerprints += _start_fingerprint(switch)
    switch_frozen.settle(switch.fingerprints, switch.report, switch.op_id, switch.maintenance_backups, log)
    if failure is None:   # outside the window: the legacy database archived, as fingerprinted
        switch_frozen.archive_fingerprinted(
            switch.fingerprints, switch.report, switch.maintenance_backups,
            data_ops.server_for(switch.desired, switch.phases[-1].doc.plain_values()),
            switch.desired, switch.op_id, log, data=switch.c.data, monotonic=switch.c.clock.monotonic)
    switch.report["backupsUnderMaintenance"] = {
        db: m["backupId"] for db, m in switch.maintenance_backups.items()}


def _fail(switch: _Switch, failure: str, rollback_budget_seconds: float, log, *,
          undo_takeover, remove_stack, refresh_state) -> None:
    """Back to where the switch started: the stack rolled back, maintenance off whatever the
    rollback's outcome, production given back to compose after a takeover."""
    report = switch.report
    log(f"switch failed: {failure}")
    report["result"] = "failed"
    report["failure"] = failure
    outcome.roll_back_stack(switch, failure, rollback_budget_seconds, log)
    if switch.maintenance_on and report["result"] != "rolled back" and switch.taken is None:
        outcome.switch_maintenance_off(switch, rollback_budget_seconds)
    if switch.taken is not None:
        outcome.give_back(switch.runner, report, switch.taken, undo_takeover, remove_stack,
                          refresh_state, log)
    if switch.window_start and report["writeUnavailability"] is None:
        report["writeUnavailability"] = _window(switch, switch.c.clock.now_iso())


def _window(switch: _Switch, end_iso: str) -> dict:
    start = switch.window_start
    return {"start": start[0], "end": end_iso, "seconds": round(switch.c.clock.monotonic() - start[1], 3)}
