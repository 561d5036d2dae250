"""python -m ops VERB STACK ...: the operators' verbs on a stack (Pulumi Automation API).

    status STACK                  one sentence: what is going on (an interrupted switch, who
                                  holds the stack) and the one command to run next
    preview STACK                 diff of the stack file against the deployed state, and the
                                  migration's dry-run summary
    switch STACK [--yes]          backup -> migration -> maintenance on -> delta migration ->
                                  up with the new release -> health gate -> maintenance off,
                                  timed against --budget; automatic rollback on failure/overrun
    rollback STACK [--to N]       re-apply the previous snapshot (or update N; --config-only
                                  when N has no backup); after an interrupted switch, undo it
    rollback STACK --to-compose AUDIT_DIR
                                  back to the compose deployment a takeover switch replaced
    history STACK                 updates with release, database, backup and result
    refresh-staging STACK         production's latest backup into STACK's database, migrated
    smoke STACK [--url URL] [--provision]
                                  health, a wrong password refused, the smoke user's
                                  conversations and messages; recorded for `preview` and
                                  `switch --require-smoke [STAGING]`; --provision first gives a
                                  migrated user a fresh password (never on production)
    deploy STACK                  one update with the stack file, recorded as a snapshot
    teardown STACK --yes          destroy a stack that is not production (staging after a rehearsal)
    audit STACK --out DIR         capture today's compose production (takeover/audit/capture.py)
    rehearse [--scale 1] [--keep] [--report DIR] [--interrupt PHASE|none] [--gateway meeshy|stand-in]
             [--stop-after switch|plain-release|failing-switch|rollback-to]
             [--docker-host ssh://USER@HOST --ssh-key FILE --known-hosts FILE]
                                  the whole switch on the local Docker engine (or a server's,
                                  its ports reached through ssh tunnels): production and
                                  staging stacks of its own, load, a failing switch, rollbacks,
                                  then a switch SIGKILLed in PHASE (default release)

Exit codes: 0 done; 3 switch failed and was rolled back; 2 bad usage or configuration;
1 anything else (including a failed rollback). Reports: --json FILE (also kept by ops).
"""
from __future__ import annotations

import argparse
import json
import sys

from config.validation import SettingsError
from ops.automation.env import OpsEnvironmentError
from ops.registry import add_verbs
from ops.verbs import run


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        print(f"ops: error: {message}", file=sys.stderr)
        sys.exit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m ops", description=__doc__,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_verbs(parser.add_subparsers(dest="verb", required=True, parser_class=_Parser))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from config.stack_file import StackConfigError
    from ops.automation.pulumi_state import PulumiLockHeld
    from ops.automation.snapshots import SnapshotError
    from ops.automation.stack_runner import PolicyViolation
    from ops.preflight import PreflightError, check
    from ops.stack_lock import StackBusy
    try:
        check(args)   # what the verb declares is checked before it starts (ops/registry.py)
        code, report = run(args)
    except (PreflightError, OpsEnvironmentError, SettingsError, StackConfigError,
            SnapshotError, PolicyViolation, StackBusy, PulumiLockHeld) as error:
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
