"""Showing what happened: progress bars on a terminal, a summary table, the JSON report."""
from __future__ import annotations

import datetime as _dt
import json
import sys

from bson import ObjectId
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

COLUMNS = ("documents", "written", "merged", "quarantined", "dropped",
           "inserted", "replaced", "deleted", "unchanged")


class ProgressBars:
    """One bar per collection; only used when stdout is a terminal."""

    def __init__(self, console: Console):
        self._progress = Progress(TextColumn("{task.description:<32}"), BarColumn(),
                                  MofNCompleteColumn(), TimeElapsedColumn(), console=console,
                                  transient=False)

    def __enter__(self):
        self._progress.start()
        return self

    def __exit__(self, *exc):
        self._progress.stop()

    def start(self, name, collection):
        try:
            total = collection.estimated_document_count()
        except Exception:  # noqa: BLE001 - a bar without a total is still a bar
            total = None
        return self._progress.add_task(name, total=total)

    def advance(self, task, n):
        self._progress.advance(task, n)

    def finish(self, task):
        total = self._progress.tasks[task].total if task < len(self._progress.tasks) else None
        self._progress.update(task, completed=total or self._progress.tasks[task].completed)


def _jsonable(value):
    if isinstance(value, ObjectId):
        return str(value)
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def write_json(report: dict, path: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(report, handle, default=_jsonable, indent=2, sort_keys=False)
        handle.write("\n")


def render(report: dict, console: Console | None = None) -> None:
    console = console or Console(file=sys.stdout)
    command = report.get("command")
    if report.get("decisions"):
        console.print("decisions: " + ", ".join(f"{k}={v}" for k, v in report["decisions"].items()))
    if command == "status":
        _render_status(report, console)
        return
    collections = report.get("collections") or {}
    if collections:
        table = Table(title=f"migration {command}", show_lines=False)
        table.add_column("source")
        table.add_column("target")
        shown = [c for c in COLUMNS if any(c in e for e in collections.values())]
        for column in shown:
            table.add_column(column, justify="right")
        for entry in collections.values():
            table.add_row(entry["source"], entry.get("target") or "(dropped)",
                          *[str(entry.get(c, "")) for c in shown])
        console.print(table)
        for entry in collections.values():
            for reason, count in (entry.get("drop_reasons") or {}).items():
                if reason.startswith("dropped by decision"):
                    console.print(f"dropped by decision: {entry['source']} {count:,} ({reason})")
        for entry in collections.values():
            for item in entry.get("quarantine", [])[:10]:
                console.print(f"  quarantine {entry['source']} {item['id']}: {item['reason']}")
    if report.get("lease"):
        console.print(f"lease: {report['lease']}", highlight=False)
    quarantine = report.get("quarantine")
    if quarantine and quarantine.get("documents"):
        console.print(f"{quarantine['documents']} document(s) in _quarantine of the target")
    verification = report.get("verification")
    if verification is not None:
        for name, digest in sorted(verification.get("hashes", {}).items()):
            console.print(f"  {name:<34} {digest['documents']:>9} docs  "
                          f"sha256 {digest['sha256'][:16]}")
    problems = report.get("problems") or (verification or {}).get("problems") or []
    for problem in problems:
        console.print(f"[red]problem:[/red] {problem}", highlight=False)
    verdict = "OK" if report.get("ok") else "FAILED"
    console.print(f"{command}: {verdict} in {report.get('seconds', 0)} s")


def _render_status(report, console) -> None:
    run, lease = report.get("run"), report.get("lease")
    if lease:
        console.print(f"a run holds the target: {lease.get('owner')}, started "
                      f"{lease.get('started_at')}, last heartbeat {lease.get('heartbeat_at')}",
                      highlight=False)
    if run is None:
        console.print("no migration has run against this target")
        return
    console.print(f"run #{run['number']}: {run['state']}"
                  f" (to {run['to'] or 'the last step'}, verified: {run.get('verified')})")
    for step in report["applied"]:
        console.print(f"  applied  {step['step']}  {step['applied_at']}  {step['description']}")
    for step in report["pending"]:
        console.print(f"  pending  {step}")
    for item in report["progress"]:
        state = "done" if item["done"] else f"at {item['last_id']}"
        console.print(f"  {item['source']:<32} {item['documents']:>9} docs  {state}")
