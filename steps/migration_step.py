"""Runs one `python -m migration run|plan` bounded in time and prints its report's summary.

    python -m steps.migration_step --report FILE --timeout SECONDS -- <migration command>

The migration's own output (progress, tables) goes to stderr so stdout carries exactly one
JSON object: {"exitCode", "report", "summary", "durationSeconds"}. The DataMigration
component turns it into outputs. A run that overruns is killed with its whole process group
(the migration is resumable: killing it loses nothing) and counts as failed. The exit code is
the migration's (0 done and verified, 2 usage, 3 verification failed, 1 other), or 1 on
timeout.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from steps.protocol import print_result

COUNT_KEYS = ("documents", "written", "merged", "quarantined", "dropped", "inserted",
              "replaced", "deleted", "unchanged")
MAX_PROBLEMS = 20


def summarise(report: dict) -> dict:
    """The part of a migration report worth keeping as stack outputs: per source collection
    counts (source = written + merged + quarantined + dropped), totals, the verification
    verdict and the target's content hashes. Ids and reasons stay in the report file."""
    if isinstance(report.get("summary"), dict):
        return report["summary"]
    out = {key: report[key] for key in ("command", "ok", "seconds", "to", "resumed") if key in report}
    collections = report.get("collections") or {}
    out["collections"] = {name: {k: figures[k] for k in COUNT_KEYS if k in figures}
                          for name, figures in collections.items() if isinstance(figures, dict)}
    out["totals"] = {k: sum(c.get(k, 0) for c in out["collections"].values()) for k in COUNT_KEYS}
    quarantine = report.get("quarantine") or {}
    out["quarantined"] = quarantine.get("documents")
    verification = report.get("verification") or {}
    problems = verification.get("problems") or []
    out["verification"] = {"ok": verification.get("ok"), "problems": problems[:MAX_PROBLEMS],
                           "moreProblems": max(0, len(problems) - MAX_PROBLEMS)}
    out["targetHashes"] = {name: h.get("sha256") for name, h in
                           (verification.get("hashes") or {}).items() if isinstance(h, dict)}
    if report.get("live_source"):   # a pre-copy: what arrived after it read, for the delta
        changes = verification.get("source_changes") or {}
        out["liveSource"] = True
        out["sourceGrowth"] = {name: c.get("growth") for name, c in changes.items()
                               if isinstance(c, dict) and c.get("growth")}
        out["provisional"] = (verification.get("provisional") or [])[:MAX_PROBLEMS]
    return out


def _relay(stream) -> None:
    for line in iter(stream.readline, b""):
        sys.stderr.write(line.decode(errors="replace"))
        sys.stderr.flush()
    stream.close()


def run_bounded(command: list[str], timeout: float) -> tuple[int, bool]:
    """(exit code, timed out). The command's output is relayed to our stderr."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)
    relay = threading.Thread(target=_relay, args=(process.stdout,), daemon=True)
    relay.start()
    try:
        code = process.wait(timeout=timeout)
        relay.join(timeout=5)
        return code, False
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        return 1, True


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--" not in argv or argv.index("--") == len(argv) - 1:
        print("error: the migration command must follow `--`", file=sys.stderr)
        return 2
    split = argv.index("--")
    parser = argparse.ArgumentParser(prog="python -m steps.migration_step", description=__doc__)
    parser.add_argument("--report", required=True, type=Path)
    parser.add_argument("--timeout", type=float, default=480.0)
    args = parser.parse_args(argv[:split])
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.unlink(missing_ok=True)      # never mistake an old report for this run's
    started = time.monotonic()
    code, timed_out = run_bounded(argv[split + 1:], args.timeout)
    result = {"exitCode": code, "report": str(args.report), "timedOut": timed_out,
              "durationSeconds": round(time.monotonic() - started, 3)}
    if args.report.is_file():
        try:
            result["summary"] = summarise(json.loads(args.report.read_text()))
        except ValueError as error:
            result["summary"] = {"error": f"report is not JSON: {error}"}
    else:
        result["summary"] = {"error": "the migration wrote no report"}
    print_result(result)
    if timed_out:
        print(f"error: migration did not finish within {args.timeout:.0f} s and was stopped "
              "(it resumes from its checkpoint on the next run)", file=sys.stderr)
    elif code != 0:
        print(f"error: migration exited with {code}; report: {args.report}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
