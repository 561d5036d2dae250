"""The operators' verbs, one function each, registered with their arguments and checks
(ops/registry.py): ops/cli.py's parser and ops/preflight.py's checks derive from these
declarations, and `run` hands the parsed arguments to the verb's function. Each returns the exit
code and the report (written by `--json FILE`).
"""
from __future__ import annotations

import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ops import preflight
from ops.registry import BUDGET, CONFIRM, REQUIRE_SMOKE, VERBS, arg, verb

if TYPE_CHECKING:   # imported when a verb runs: `--help` and the audit need no Pulumi
    from ops.automation.stack_runner import StackRunner


def _confirm(yes: bool, stack: str):
    def ask(summary: str) -> bool:
        if yes:
            return True
        if not sys.stdin.isatty():
            raise SystemExit("ops: error: not a terminal; pass --yes to confirm non-interactively")
        answer = input(f"Type the stack name ({stack}) to go ahead: ").strip()
        return answer == stack
    return ask


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _audit_arguments(parser) -> None:
    from takeover.audit import capture
    capture.build_parser(parser)


@verb("audit", "capture the compose production", on_stack=False,
      arguments=(_audit_arguments,))   # the audit checks its --out itself, before any work
def audit(args) -> tuple[int, object]:
    from takeover.audit import capture
    return capture.run(args), None


def _rehearsal_usage(args) -> None:
    from ops.rehearse.verb import check_usage
    check_usage(args)


@verb("rehearse", "the whole switch on the local Docker engine or a server's", on_stack=False,
      check=_rehearsal_usage, arguments=(
          arg("--scale", type=float, default=1.0,
              help="legacy dataset size, times production's (about 125k documents at 1; "
                   "at least 0.01)"),
          arg("--keep", action="store_true", help="leave both stacks running"),
          arg("--report", type=Path, default=Path("rehearsal"), metavar="DIR",
              help="where the report, the picture, the backups and the state go "
                   "(default ./rehearsal)"),
          arg("--interrupt", metavar="PHASE", default="release",
              choices=("backup-and-migrate", "release",
                       "maintenance-off", "none"),
              help="the last step SIGKILLs a switch in PHASE (default release) and "
                   "recovers it with the command `status` names (reported under `faults`); "
                   "`none` skips that step"),
          arg("--stop-after", choices=("switch", "plain-release", "failing-switch", "rollback-to"),
              help="end with this step (then teardown; no interrupted switch): a benchmark of "
                   "the switch alone at a large scale (bench/bench_rehearsal_window.py)"),
          arg("--gateway", choices=("meeshy", "stand-in"), default="meeshy",
              help="what the target release's gateway is: Meeshy's own (default; "
                   "tools/build-gateway-image.sh) with both stacks on DocumentDB "
                   "(tools/build-documentdb.sh), the load logged in through its API; or our "
                   "stand-in on FerretDB"),
          arg("--docker-host", metavar="ssh://USER@HOST[:PORT]",
              help="run both stacks on this server's engine, reached over SSH, and reach their "
                   "ports through ssh tunnels (default: the local engine)"),
          arg("--ssh-key", type=Path, metavar="FILE",
              help="with --docker-host: the private key (meeshy:dockerSsh.identityFile)"),
          arg("--known-hosts", type=Path, metavar="FILE",
              help="with --docker-host: the file pinning the server's host key "
                   "(meeshy:dockerSsh.knownHosts)")))
def rehearse(args) -> tuple[int, object]:
    from ops.rehearse import verb as rehearsal
    return rehearsal.run(args)


@verb("status", "what is going on, and the one command to run next")
def status(args, runner: StackRunner) -> tuple[int, object]:
    from ops.status import status as stack_status
    report = stack_status(runner)
    print(report["sentence"])
    return 0, report


@verb("preview", "the stack file's diff against the deployed state", applies=True,
      arguments=(BUDGET, REQUIRE_SMOKE,
                 arg("--timings", type=Path, default=Path("rehearsal/rehearsal-report.json"),
                     metavar="REPORT",
                     help="a rehearsal report whose switch timings give the expected "
                          "window (default rehearsal/rehearsal-report.json; without one, "
                          "this stack's last switch)")))
def preview(args, runner: StackRunner) -> tuple[int, object]:
    from ops import journal as journals
    from ops.smoke_verb import require_smoke
    from ops.views import preview as preview_view
    require_smoke(runner, args.require_smoke)
    timings = args.timings if args.timings.is_file() else None
    report = preview_view(runner, log=_log, timings=timings, budget_seconds=args.budget)
    journals.record_preview(runner.ledger.root, runner.desired())
    return 0, report


@verb("switch", "backup, migration and the new release in a timed window", applies=True,
      arguments=(
          CONFIRM, BUDGET, REQUIRE_SMOKE,
          arg("--takeover", type=Path, metavar="AUDIT_DIR",
              help="first stop and remove the audited compose deployment; "
                   "a failed switch brings it back"),
          arg("--compose-project", default="meeshy",
              help="compose project of the deployment taken over (default meeshy)"),
          arg("--unpreviewed", action="store_true",
              help="go on although the stack file changed since the last preview"),
          arg("--rollback-budget", type=float, default=600.0, metavar="SECONDS",
              help="time allowed to the automatic rollback (default 600)")))
def switch(args, runner: StackRunner) -> tuple[int, object]:
    from ops.smoke_verb import require_smoke
    from ops.switch import recover
    from ops.switch.run import SwitchAborted, run_switch
    require_smoke(runner, args.require_smoke)
    recover.refuse_unpreviewed(runner, args.unpreviewed)
    resume = recover.interrupted_switch(runner, takeover=args.takeover is not None, log=_log)
    recover.check_backup_dir(runner)
    if resume is None:   # a resumed switch's journal opened after that check, on this same file
        runner.check_policies(runner.desired(), op_id="policy-switch")
    takeover = undo = facts = None
    if args.takeover is not None:
        from ops.switch.takeover import check_takeover_changes
        from ops.switch.takeover_undo import journal_facts
        from takeover.compose import handover as compose
        from takeover.compose.record import TakeoverError
        try:   # before anything stops: what the takeover changes, refused if it loses a setting
            check_takeover_changes(args.takeover, args.stack, log=_log)
        except TakeoverError as refused:
            _log(f"ops switch: {refused}")
            return 3, None
        takeover = lambda: compose.takeover(args.takeover, project=args.compose_project, log=_log)  # noqa: E731
        undo = lambda: compose.restore(args.takeover, log=_log)  # noqa: E731
        facts = journal_facts(args.takeover, args.compose_project)
    try:
        report = run_switch(runner, budget_seconds=args.budget,
                            rollback_budget_seconds=args.rollback_budget,
                            confirm=_confirm(args.yes, args.stack), log=_log,
                            takeover=takeover, undo_takeover=undo, resume=resume,
                            takeover_facts=facts)
    except SwitchAborted as aborted:
        _log(str(aborted))
        return 1, None
    _print_phases(report)
    return {"succeeded": 0, "rolled back": 3}.get(report["result"], 1), report


@verb("rollback", "re-apply an earlier snapshot, or the compose deployment", arguments=(
    CONFIRM, BUDGET,
    arg("--config-only", action="store_true",
        help="with --to: re-apply that update's configuration only, restoring no data (when no "
             "backup of its database is recorded)"),
    (arg("--to", type=int, metavar="VERSION",
         help="the update to re-apply (default: the previous snapshot; after an interrupted "
              "switch, the update it started from)"),
     arg("--to-compose", type=Path, metavar="AUDIT_DIR",
         help="after a takeover switch: remove the stack's containers (never a "
              "volume) and bring back the compose deployment recorded in AUDIT_DIR"))))
def rollback(args, runner: StackRunner) -> tuple[int, object]:
    if args.to_compose is not None:
        return _rollback_to_compose(args, runner)
    from ops.switch.rollback import RollbackFailed, rollback_to
    try:
        report = rollback_to(runner, args.to, confirm=_confirm(args.yes, args.stack),
                             budget_seconds=args.budget, log=_log,
                             config_only=args.config_only)
    except RollbackFailed as failed:
        return 1, failed.report
    return (1, None) if report is None else (0, report)


def _rollback_to_compose(args, runner: StackRunner) -> tuple[int, object]:
    from ops.switch.takeover_rollback import rollback_to_compose
    report = rollback_to_compose(runner, args.to_compose, confirm=_confirm(args.yes, args.stack),
                                 restore_seconds=args.budget, log=_log)
    return (1, None) if report is None else (0 if report["result"] == "restored" else 1, report)


@verb("history", "updates with release, database, backup and result")
def history(args, runner: StackRunner) -> tuple[int, object]:
    from ops.views import format_history
    from ops.views import history as history_rows
    rows = history_rows(runner)
    print(format_history(rows))
    return 0, rows


@verb("refresh-staging", "production's latest backup into the stack's database, migrated",
      applies=True, check=lambda args: preflight.refresh_problems(args.project_dir, args.stack,
                                                                  args.source),
      check_file=preflight.protected_problem, arguments=(
          arg("--from", dest="source", default="production",
              help="the stack whose latest backup is copied (default production)"),))
def refresh_staging(args, runner: StackRunner) -> tuple[int, object]:
    from ops.automation.stack_runner import StackRunner
    from ops.refresh_staging import refresh_staging as refresh
    production = StackRunner(runner.env, args.project_dir, args.source, log=_log)
    report = refresh(runner, production, log=_log)
    return (0 if report["result"] == "succeeded" else 1), report


@verb("deploy", "one update with the stack file, recorded as a snapshot", applies=True,
      creates=True)
def deploy(args, runner: StackRunner) -> tuple[int, object]:
    from ops.automation.ledger import new_op_id
    runner.check_policies(runner.desired(), op_id="policy-deploy")
    result = runner.up(runner.desired(), op_id=new_op_id("deploy"), phase="deploy", snapshot=True,
                       deadline=time.monotonic() + 3600)
    return (0 if result.ok else 1), result.__dict__


@verb("fetch-backup", "copy a backup from the stack's engine host here, verified", arguments=(
    arg("--out", type=Path, required=True, metavar="DIR",
        help="the folder on this machine the backup is copied into"),
    arg("--archive", metavar="PATH", help="the archive on the stack's engine host (default: the "
        "latest backup of the database the services use)")))
def fetch_backup(args, runner: StackRunner) -> tuple[int, dict]:
    """Copies a backup from where it is (the stack's engine host) to this machine, verified."""
    from ops.backups import BackupError, fetch
    from ops.data_ops import DataOperationError
    try:
        report = fetch(runner, args.out, archive=args.archive, log=_log)
    except (BackupError, DataOperationError) as error:
        _log(f"ops fetch-backup: {error}")
        return 1, None
    print(f"fetched {report['backupId']} to {report['copiedTo']}: sha256 and "
          f"{len(report['collections'])} collections verified")
    return 0, report


@verb("teardown", "destroy a stack that is not production", arguments=(CONFIRM,))
def teardown(args, runner: StackRunner) -> tuple[int, dict]:
    """Destroys every unprotected resource of a stack that is not production. The protected
    ones (data volumes) stay, in the engine and in the state, and are named; the stack's history
    and ops' records are kept."""
    if args.stack == "production":
        raise SystemExit("ops teardown: refusing to tear down production")
    if not _confirm(args.yes, args.stack)(f"destroy every resource of stack {args.stack!r}"):
        return 1, None
    started = time.monotonic()
    result = runner.stack.destroy(message=f"meeshy-ops teardown {args.stack}", color="never",
                                  exclude_protected=True, suppress_progress=True,
                                  on_output=lambda line: None)
    kept = _protected_resources(runner)
    report = {"stack": args.stack, "result": result.summary.result,
              "resourceChanges": dict(result.summary.resource_changes or {}),
              "protectedKept": kept, "seconds": round(time.monotonic() - started, 3)}
    runner.ledger.append({"kind": "teardown", **report})
    print(f"teardown {args.stack}: {report['result']} in {report['seconds']:.1f} s "
          f"({report['resourceChanges']})")
    for name in kept:
        print(f"  kept (protected): {name}")
    return (0 if report["result"] == "succeeded" else 1), report


def _protected_resources(runner) -> list[str]:
    """Docker names (else URNs) of the protected resources still in the stack's state."""
    resources = runner.stack.export_stack().deployment.get("resources") or []
    return sorted((r.get("outputs") or {}).get("name") or r["urn"]
                  for r in resources if r.get("protect"))


def _print_phases(report: dict) -> None:
    lines = [f"switch {report['opId']}: {report['result']} in {report.get('seconds', 0):.1f} s"]
    for phase in report["phases"]:
        steps = ", ".join(f"{k} {v:.1f} s" for k, v in (phase.get("steps") or {}).items())
        lines.append(f"  {phase['name']:<20} {phase['seconds']:>7.1f} s  {'ok' if phase['ok'] else 'FAILED'}"
                     + (f"  ({steps})" if steps else ""))
    window = report.get("writeUnavailability")
    if window:
        lines.append(f"  write-unavailability window: {window['seconds']:.1f} s")
    if report.get("rollback"):
        lines.append(f"  rollback: {report['rollback'].get('result')}")
    lines.append(f"  report: {report.get('reportPath')}")
    print("\n".join(lines))


def run(args) -> tuple[int, object]:
    declared = VERBS[args.verb]
    if not declared.on_stack:
        return declared.run(args)
    from ops import processes
    from ops.automation.env import discover
    from ops.automation.stack_runner import StackRunner
    from ops.switch import recover
    before = processes.mark_this_run()   # every child inherits it: a later run finds them if this one dies
    previous = _on_sigterm(_terminated)
    try:
        runner = StackRunner(discover(), args.project_dir, args.stack, log=_log,
                             create=declared.creates)
        if args.verb not in recover.GUARDED_VERBS:
            return declared.run(args, runner)
        lock = recover.prepare(runner, args.verb, _log)
        try:
            return declared.run(args, runner)
        finally:
            lock.release()
    finally:
        # The pulumi CLI, its language host and plugins die with ops (they outlive a bare exit).
        ended = processes.end_mine()
        processes.unmark(before)    # what the caller starts next is not this run's
        _on_sigterm(previous)
        if ended:
            _log(f"ops: ended {len(ended)} process(es) of this run still running at its exit")


def _terminated(signum, frame):
    raise SystemExit(128 + signum)


def _on_sigterm(handler):
    """SIGTERM ends ops through its `finally` blocks (lock released, children ended); only the
    main thread may set it (a verb run from another thread keeps the default)."""
    import threading
    if handler is None or threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, handler)


# The smoke verb lives in its own module (this one is at its size limit): imported to register.
from ops import smoke_verb  # noqa: E402,F401
