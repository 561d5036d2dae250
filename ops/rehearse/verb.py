"""The `rehearse` verb's two halves: its usage checked before anything starts, then one
Rehearsal (ops/rehearse/run.py) run, its report written (JSON, picture) and its table printed."""
from __future__ import annotations

import sys

from ops.rehearse import report as rehearse_report
from ops.rehearse.placement import engine_of, engine_problems
from ops.rehearse.run import DEFAULT_INTERRUPT, SWITCH_STEP, Rehearsal


def check_usage(args) -> None:
    """Refused before anything starts (exit 2): a scale the dataset cannot have, a report
    directory that cannot be written, an engine that cannot be used (engine_problems)."""
    from legacy_data.dataset import MIN_SCALE
    from ops.preflight import PreflightError, writable_problem
    problems = [] if args.scale >= MIN_SCALE else [f"--scale {args.scale:g} is below {MIN_SCALE}: "
                                                   "smaller datasets miss some of production's defects"]
    problems.append(writable_problem(args.report, "--report", directory=True))
    problems = [p for p in problems if p] or engine_problems(args)
    if problems:
        raise PreflightError(problems)


def run(args) -> tuple[int, dict]:
    rehearsal = Rehearsal(args.scale, args.report, log=_log,
                          interrupt=getattr(args, "interrupt", DEFAULT_INTERRUPT),
                          engine=engine_of(args), gateway=getattr(args, "gateway", "meeshy"),
                          stop_after=getattr(args, "stop_after", None))
    report = rehearsal.run(args.keep)
    switch_writes = [w for w in rehearsal.writes if w.step == SWITCH_STEP]
    report["picture"] = str(rehearse_report.picture(report.get("switch") or {}, switch_writes,
                                                    rehearsal.dir / rehearse_report.PICTURE) or "")
    rehearse_report.write_json(report, rehearsal.dir)
    print(rehearse_report.table(report))
    return (0 if report["result"] == "succeeded" else 1), report


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
