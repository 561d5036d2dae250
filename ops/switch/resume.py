"""What the journal adds to a switch (ops/switch/run.py): the journal opened with the plan
before any change, the phases an interrupted switch ended ok taken back rather than run again
when it is resumed, and the last check once writes reopen.

A resumed switch is planned again from its `fromVersion` with its operation id, so each phase
is the configuration it was; a phase ended ok is not applied again (re-applying
backup-and-migrate after release would reopen writes on the legacy database), and what
the switch learnt from it comes back from the ledger (its update's outputs: backups,
migration), its baseline file and the journal's times (the window's start). Its budget is new.
"""
from __future__ import annotations

from ops import data_ops
from ops import journal as journals


def open_journal(switch) -> None:
    """The plan and the facts a later `status`, resume or rollback needs, before any change."""
    switch.journal = journals.Journal(switch.runner.ledger.root)
    report, taking_over = switch.report, switch.takeover_facts is not None
    switch.journal.begin("switch", switch.op_id,
                         plan=["takeover"] * taking_over + [p.name for p in switch.phases],
                         resumed_from=switch.resumed, fromVersion=report["fromVersion"],
                         fromRelease=report["fromRelease"], release=report["release"],
                         databaseName=report["databaseName"],
                         stackFileSha256=journals.doc_sha256(switch.runner.desired()),
                         **({"takeover": switch.takeover_facts} if taking_over else {}))
    if switch.resumed is not None:
        report["resumed"] = {"interruptedRun": switch.resumed.get("run"),
                             "from": journals.next_phase(switch.resumed),
                             "phasesKept": journals.phases_done(switch.resumed)}


def last_check(switch) -> str | None:
    """The services must answer once writes reopen: the gate passed under maintenance, and a
    container may have died since. The same endpoints as the HealthGate component."""
    from ops.switch import rollback as rollback_module
    gate = switch.c.health_gate or rollback_module._health
    server = data_ops.server_for(switch.desired, switch.phases[-1].doc.plain_values())
    left = max(5.0, switch.deadline - switch.c.clock.monotonic())
    health = gate(server, switch.desired, left)
    switch.report["lastCheck"] = health
    if health.get("healthy"):
        return None
    return "last check after maintenance-off failed: " + "; ".join(health.get("failures") or [])


def replay(switch, phase) -> None:
    """A phase the interrupted switch ended ok: not run again; what the switch learnt from it
    (its update's outputs in the ledger, its baseline file, maintenance on) taken back."""
    record = next(p for p in switch.resumed["phases"] if p["name"] == phase.name and p.get("ok"))
    switch.report["phases"].append({"name": phase.name, "start": record["started"],
                                    "end": record["ended"], "seconds": 0.0,
                                    "version": record.get("version"), "steps": {}, "ok": True,
                                    "resumed": "ended ok before the interruption: not run again"})
    update = switch.runner.ledger.phase_update(switch.op_id, phase.name) or {}
    release = update.get("release") or {}
    collect(switch.report, phase, release, switch.maintenance_backups)
    switch.current_doc = phase.doc
    if phase.opens_window:
        switch.maintenance_on = True
        switch.window_start = (record["started"], switch.c.clock.monotonic()
                               - journals.seconds_since(record["started"]))
    if phase.baseline_after:
        path = switch.runner.ledger.baseline_path(switch.op_id, phase.baseline_after)
        if path.is_file():
            switch.baselines[phase.baseline_after] = str(path)
        else:   # the kill came while its thread read it: still under maintenance, read it again
            from ops.switch.baseline import PendingBaseline
            switch.pending_baseline = PendingBaseline(switch, phase).start()
            switch.pending_baseline.record = switch.report["phases"][-1]


def collect(report: dict, phase, release: dict, maintenance_backups: dict) -> None:
    backup = release.get("backup") or {}
    if backup.get("backupId") and backup["backupId"] not in {
            b["backupId"] for items in report["backups"].values() for b in items}:
        entry = {**backup, "phase": phase.name, "underMaintenance": phase.backup_under_maintenance}
        report["backups"].setdefault(backup["database"], []).append(
            {k: entry[k] for k in ("backupId", "archive", "sha256", "sizeBytes", "documents",
                                   "phase", "underMaintenance") if k in entry})
        if phase.backup_under_maintenance:
            maintenance_backups[backup["database"]] = backup
    migration = release.get("migration")
    if migration and migration.get("report") not in {m.get("report") for m in report["migration"].values()}:
        report["migration"][phase.name] = migration
