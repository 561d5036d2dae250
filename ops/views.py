"""Read-side verbs: history (updates with release, backup and result) and preview (the diff of
the stack file against the deployed state, the phases a switch to it would run, and the
migration's dry-run summary). The diff is that of the final state: a migration that only runs
inside the switch's phases appears in the dry run and the phase list, not in the diff."""
from __future__ import annotations

import json
from pathlib import Path

from config.release_settings import load_release_settings
from ops import data_ops
from ops.automation import snapshots
from ops.automation.ledger import new_op_id
from ops.automation.stack_runner import StackRunner
from ops.switch import plan as switch_plan
from ops.switch import window_estimate


def history(runner: StackRunner) -> list[dict]:
    out = []
    for row in snapshots.rows(runner):
        release = (row.ledger or {}).get("release") or {}
        backup = release.get("backup") or {}
        op = (row.ledger or {}).get("opId")
        out.append({
            "version": row.version, "result": row.result, "started": row.started,
            "snapshot": row.is_snapshot and row.by_ops, "byOps": row.by_ops,
            "operation": op, "phase": (row.ledger or {}).get("phase"),
            "message": row.message, "release": release.get("release"),
            "databaseName": release.get("databaseName"), "maintenance": release.get("maintenance"),
            "backupId": backup.get("backupId"),
            "steps": (row.ledger or {}).get("steps") or {},
        })
    return out


def format_history(rows: list[dict]) -> str:
    header = f"{'ver':>4} {'':1} {'result':<10} {'started':<20} {'operation':<30} {'phase':<19} " \
             f"{'release':<14} {'database':<12} backup"
    lines = [header]
    for r in rows:
        lines.append(
            f"{r['version']:>4} {'*' if r['snapshot'] else ' ':1} {r['result']:<10} "
            f"{r['started'][:19]:<20} {(r['operation'] or '(outside ops)'):<30} "
            f"{(r['phase'] or '-'):<19} {(r['release'] or '-'):<14} "
            f"{(r['databaseName'] or '-'):<12} {r['backupId'] or '-'}")
    lines.append("* = a released state `rollback --to VERSION` can re-apply")
    return "\n".join(lines)


def preview(runner: StackRunner, log=print, timings: Path | None = None,
            budget_seconds: float = 600.0) -> dict:
    """The diff, the switch's phases, the migration's dry run and the window expected (from the
    rehearsal report `timings`, else this stack's last switch: ops/switch/window_estimate.py)."""
    desired_doc = runner.desired()
    desired = load_release_settings(runner.stack_name, desired_doc.plain_values())
    deployed = snapshots.current(runner)
    op_id = new_op_id("preview")
    phases = switch_plan.plan(deployed.doc if deployed else None,
                              deployed.settings if deployed else None, desired_doc, desired, op_id)
    log("switch phases: " + " -> ".join(p.name for p in phases))
    result = runner.preview(desired_doc, op_id=op_id)
    report = {"stack": runner.stack_name,
              "from": ({"version": deployed.version, "release": deployed.settings.release,
                        "databaseName": deployed.settings.live_database} if deployed else None),
              "to": {"release": desired.release, "databaseName": desired.live_database},
              "switchPhases": [p.name for p in phases],
              "changes": dict(result.change_summary), "diff": result.stdout, "migration": None}
    log(result.stdout)
    migration = desired.migration
    if migration is not None and deployed is None and not desired.external:
        # The dry run reads through the stack's own database container, which the first
        # update creates (before a takeover, compose's database holds the data): the switch's
        # backup-and-migrate phase is the first place it can run.
        why = ("nothing is deployed yet: the stack's database container does not exist, so the "
               "dry run is the switch's backup-and-migrate phase")
        report["migration"] = {"source": migration.source_database,
                               "target": migration.target_database, "skipped": why}
        log(f"migration dry run {migration.source_database} -> {migration.target_database}: skipped, {why}")
    elif migration is not None and not (deployed and
                                        deployed.settings.live_database == migration.target_database):
        server = data_ops.server_for(desired, desired_doc.plain_values())
        path = Path(runner.ledger.scratch(f"{op_id}-migration-plan.json"))
        plan = data_ops.migration_plan(server, migration.source_database,
                                       migration.target_database, path,
                                       decisions=dict(migration.decisions))
        report["migration"] = {"source": migration.source_database,
                               "target": migration.target_database, "report": str(path),
                               "decisions": dict(migration.decisions),
                               "droppedByDecision": dropped_by_decision(plan),
                               "sourceDocuments": source_documents(plan),
                               "summary": plan.get("summary", plan)}
        log(f"migration dry run {migration.source_database} -> {migration.target_database}: "
            f"report {path}")
        log("decisions (meeshy:migration.decisions): "
            + ", ".join(f"{k}={v}" for k, v in sorted(migration.decisions.items())))
        for source, count in report["migration"]["droppedByDecision"].items():
            log(f"dropped by decision: {source} {count:,}")
        log(summarise_plan(plan))
    report["expectedWindow"] = expected_window(runner, report, timings, budget_seconds)
    log(window_estimate.sentence(report["expectedWindow"]))
    return report


def expected_window(runner: StackRunner, report: dict, timings: Path | None,
                    budget_seconds: float) -> dict:
    """The window estimate for this preview's switch. Production's documents are the dry run's
    source documents; a switch without a migration has no count and is not scaled."""
    reference = window_estimate.read_rehearsal(timings) if timings else None
    if reference is None:
        reference = last_switch(runner)
    documents = (report.get("migration") or {}).get("sourceDocuments")
    found = window_estimate.estimate(reference, documents, budget_seconds)
    if timings and not found.get("reference", "").startswith("rehearsal"):
        found["restsOn"] = f"{timings} holds no succeeded rehearsal switch; " + found["restsOn"]
    return found


def last_switch(runner: StackRunner) -> window_estimate.Reference | None:
    """This stack's newest succeeded switch in ops' ledger, as a reference."""
    for entry in reversed(list(runner.ledger.entries("switch"))):
        path = runner.ledger.root / "reports" / f"{entry.get('opId')}.json"
        if entry.get("result") == "succeeded" and path.is_file():
            try:
                switch = json.loads(path.read_text())
            except ValueError:
                continue
            return window_estimate.from_switch(
                switch, f"switch {entry['opId']} of {runner.stack_name} ({switch.get('started')})")
    return None


def dropped_by_decision(plan: dict) -> dict[str, int]:
    """{source collection: documents} the plan drops because of an operators' decision."""
    collections = plan.get("collections") or {}
    return {name: sum(count for reason, count in (entry.get("drop_reasons") or {}).items()
                      if reason.startswith("dropped by decision"))
            for name, entry in sorted(collections.items())
            if isinstance(entry, dict) and any(reason.startswith("dropped by decision")
                                               for reason in entry.get("drop_reasons") or {})}


def _plan_collections(plan: dict) -> dict:
    return plan.get("collections") or (plan.get("summary") or {}).get("collections") or {}


def source_documents(plan: dict) -> int | None:
    """The source documents the dry run read, all collections together."""
    collections = _plan_collections(plan)
    total = sum(figures.get("documents", 0) for figures in collections.values()
                if isinstance(figures, dict)) if isinstance(collections, dict) else 0
    return total or None


def summarise_plan(plan: dict) -> str:
    """One line per source collection from the migration's plan report, whatever its depth."""
    collections = _plan_collections(plan)
    if not isinstance(collections, dict) or not collections:
        return "  (no per-collection figures in the plan report)"
    lines = []
    for name, figures in sorted(collections.items()):
        if isinstance(figures, dict):
            shown = ", ".join(f"{k} {v}" for k, v in figures.items()
                              if isinstance(v, (int, float)) and not isinstance(v, bool))
            lines.append(f"  {name}: {shown}")
    return "\n".join(lines)
