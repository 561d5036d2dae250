"""python -m ops VERB STACK ...: the operators' verbs on a stack (Pulumi Automation API).

    preview STACK                 diff of the stack file against the deployed state, and the
                                  migration's dry-run summary
    switch STACK [--yes]          backup -> migration -> maintenance on -> delta migration ->
                                  up with the new release -> health gate -> maintenance off,
                                  timed against --budget; automatic rollback on failure/overrun
    rollback STACK [--to N]       re-apply the previous snapshot (or update N)
    history STACK                 updates with release, database, backup and result
    refresh-staging STACK         production's latest backup into STACK's database, migrated
    deploy STACK                  one update with the stack file, recorded as a snapshot
    teardown STACK --yes          destroy a stack that is not production (staging after a rehearsal)
    audit STACK --out DIR         capture today's compose production (takeover/audit/capture.py)
    rehearse [--scale 1] [--keep] [--report DIR]
                                  the whole switch on the local Docker engine: production and
                                  staging stacks of its own, load, a failing switch, rollbacks

Exit codes: 0 done; 3 switch failed and was rolled back; 2 bad usage or configuration;
1 anything else (including a failed rollback). Reports: --json FILE (also kept by ops).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from config.release_settings import ReleaseConfigError
from ops.automation.env import REPO_ROOT, OpsEnvironmentError, discover

VERBS = ("preview", "switch", "rollback", "history", "refresh-staging", "deploy", "teardown")


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        print(f"ops: error: {message}", file=sys.stderr)
        sys.exit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m ops", description=__doc__,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    verbs = parser.add_subparsers(dest="verb", required=True, parser_class=_Parser)
    from takeover.audit import capture as audit_verb
    audit_verb.build_parser(verbs.add_parser("audit", help="capture the compose production"))
    rehearse = verbs.add_parser("rehearse", help="the whole switch on the local Docker engine")
    rehearse.add_argument("--scale", type=float, default=1.0,
                          help="legacy dataset size, times production's (about 125k documents at 1; "
                               "at least 0.01)")
    rehearse.add_argument("--keep", action="store_true", help="leave both stacks running")
    rehearse.add_argument("--load-whole-switch", action="store_true",
                          help="write during the full migration pass too (its verification then "
                               "fails and the switch rolls back: a known limitation)")
    rehearse.add_argument("--report", type=Path, default=Path("rehearsal"), metavar="DIR",
                          help="where the report, the picture, the backups and the state go "
                               "(default ./rehearsal)")
    for verb in VERBS:
        sub = verbs.add_parser(verb)
        sub.add_argument("stack")
        sub.add_argument("--project-dir", type=Path, default=REPO_ROOT,
                         help="the Pulumi project (default: this repository)")
        sub.add_argument("--json", metavar="FILE", type=Path, help="write the report as JSON")
        if verb in ("switch", "rollback", "teardown"):
            sub.add_argument("--yes", action="store_true", help="do not ask for confirmation")
        if verb in ("switch", "rollback"):
            sub.add_argument("--budget", type=float, default=600.0, metavar="SECONDS",
                             help="time allowed before an automatic rollback (default 600)")
        if verb == "switch":
            sub.add_argument("--takeover", type=Path, metavar="AUDIT_DIR",
                             help="first stop and remove the audited compose deployment; "
                                  "a failed switch brings it back")
            sub.add_argument("--compose-project", default="meeshy",
                             help="compose project of the deployment taken over (default meeshy)")
            sub.add_argument("--rollback-budget", type=float, default=600.0, metavar="SECONDS",
                             help="time allowed to the automatic rollback (default 600)")
        if verb == "rollback":
            sub.add_argument("--to", type=int, metavar="VERSION",
                             help="the update to re-apply (default: the previous snapshot)")
        if verb == "refresh-staging":
            sub.add_argument("--from", dest="source", default="production",
                             help="the stack whose latest backup is copied (default production)")
    return parser


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


def run(args) -> tuple[int, object]:
    from ops.automation.stack_runner import StackRunner

    if args.verb == "audit":
        from takeover.audit import capture as audit_verb
        return audit_verb.run(args), None
    if args.verb == "rehearse":
        from ops.rehearse import run as rehearse
        return rehearse.run(args)
    env = discover()
    create = args.verb == "deploy"
    runner = StackRunner(env, args.project_dir, args.stack, log=_log, create=create)
    if args.verb == "history":
        from ops.views import format_history, history
        rows = history(runner)
        print(format_history(rows))
        return 0, rows
    if args.verb == "preview":
        from ops.views import preview
        return 0, preview(runner, log=_log)
    if args.verb in ("switch", "deploy"):
        runner.check_policies(runner.desired(), op_id=f"policy-{args.verb}")
    if args.verb == "switch":
        from ops.switch.run import SwitchAborted, run_switch
        takeover = undo = None
        if args.takeover is not None:
            from ops.switch.takeover import check_takeover_changes
            from takeover.compose import handover as compose
            from takeover.compose.record import TakeoverError
            try:   # before anything stops: what the takeover changes, refused if it loses a setting
                check_takeover_changes(args.takeover, args.stack, log=_log)
            except TakeoverError as refused:
                _log(f"ops switch: {refused}")
                return 3, None
            takeover = lambda: compose.takeover(args.takeover, project=args.compose_project, log=_log)  # noqa: E731
            undo = lambda: compose.restore(args.takeover, log=_log)  # noqa: E731
        try:
            report = run_switch(runner, budget_seconds=args.budget,
                                rollback_budget_seconds=args.rollback_budget,
                                confirm=_confirm(args.yes, args.stack), log=_log,
                                takeover=takeover, undo_takeover=undo)
        except SwitchAborted as aborted:
            _log(str(aborted))
            return 1, None
        _print_phases(report)
        return {"succeeded": 0, "rolled back": 3}.get(report["result"], 1), report
    if args.verb == "rollback":
        from ops.switch.rollback import RollbackFailed, rollback_to
        try:
            report = rollback_to(runner, args.to, confirm=_confirm(args.yes, args.stack),
                                 budget_seconds=args.budget, log=_log)
        except RollbackFailed as failed:
            return 1, failed.report
        return (1, None) if report is None else (0, report)
    if args.verb == "refresh-staging":
        from ops.refresh_staging import refresh_staging
        production = StackRunner(env, args.project_dir, args.source, log=_log)
        report = refresh_staging(runner, production, log=_log)
        return (0 if report["result"] == "succeeded" else 1), report
    if args.verb == "teardown":
        return _teardown(runner, args)
    # deploy
    from ops.automation.ledger import new_op_id
    op_id = new_op_id("deploy")
    result = runner.up(runner.desired(), op_id=op_id, phase="deploy", snapshot=True,
                       deadline=time.monotonic() + 3600)
    return (0 if result.ok else 1), result.__dict__


def _teardown(runner, args) -> tuple[int, dict]:
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


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from config.stack_file import StackConfigError
    from ops.automation.snapshots import SnapshotError
    from ops.automation.stack_runner import PolicyViolation
    from ops.preflight import PreflightError, check
    try:
        if args.verb == "rehearse":
            from ops.rehearse.run import check_usage
            check_usage(args)
        elif args.verb != "audit":    # the audit checks its --out itself, before any work
            check(args)
        code, report = run(args)
    except (PreflightError, OpsEnvironmentError, ReleaseConfigError, StackConfigError,
            SnapshotError, PolicyViolation) as error:
        print(f"ops {args.verb}: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"ops {args.verb}: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # noqa: BLE001 - one line for the operator, details on request
        return _unexpected(args.verb, error)
    if getattr(args, "json", None) and report is not None:
        try:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(report, indent=2, sort_keys=True, default=str))
        except OSError as error:
            # Checked writable before the verb ran: something changed it meanwhile.
            print(f"ops {args.verb}: the verb ended with exit code {code} but its report could "
                  f"not be written to {args.json} ({error.strerror or error})", file=sys.stderr)
            return code or 1
    return code


def _unexpected(verb: str, error: Exception) -> int:
    """An error no verb turned into a sentence: one line, the traceback only when asked for
    (MEESHY_OPS_TRACEBACK=1), so an operator reads what failed rather than a stack dump."""
    import os
    import traceback

    from pulumi.automation.errors import CommandError
    if isinstance(error, CommandError):
        print(f"ops {verb}: pulumi failed: {str(error)[-1500:]}", file=sys.stderr)
        return 1
    if os.environ.get("MEESHY_OPS_TRACEBACK") == "1":
        traceback.print_exc()
    text = str(error).strip() or type(error).__name__
    print(f"ops {verb}: {text} (MEESHY_OPS_TRACEBACK=1 shows where)", file=sys.stderr)
    return 1
