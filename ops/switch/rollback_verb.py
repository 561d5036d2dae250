"""The `rollback STACK [--to N] [--config-only]` verb: which rollback runs, and what it refuses.

- After an interrupted switch (ops/journal.py) a plain `rollback` undoes exactly that switch:
  back to its `fromVersion`, never one snapshot back (ops/switch/recover.py); after an
  interrupted takeover switch, production goes back to compose (ops/switch/takeover_undo.py).
- After an interrupted rollback, `rollback` runs it again, with the same target.
- Otherwise from the deployed snapshot to update N (default: the previous snapshot). A target
  with no backup recorded for its database is refused, naming the nearest update that has one,
  unless `--config-only`, which re-applies the configuration, restores no data and says so.
Each is journaled as it starts and as it ends.
"""
from __future__ import annotations

from ops import journal as journals
from ops.automation import snapshots
from ops.automation.ledger import new_op_id
from ops.automation.stack_runner import StackRunner
from ops.switch import recover, takeover_undo
from ops.switch.rollback import rollback


def rollback_to(runner: StackRunner, version: int | None, *, confirm, budget_seconds: float,
                log=print, config_only: bool = False) -> dict | None:
    """None when not confirmed; raises RollbackFailed (with its report) when the rollback fails,
    SnapshotError when it is refused before any change."""
    journal = journals.Journal(runner.ledger.root)
    entry = journal.read()
    if journals.interrupted(entry) and entry["kind"] == "rollback":
        version = version if version is not None else entry.get("toVersion")
        entry = entry.get("undoes") or entry
    undoing = journals.interrupted(entry) and entry["kind"] == "switch"
    if undoing and version in (None, entry.get("fromVersion")):
        if takeover_undo.is_takeover(entry):
            return takeover_undo.undo(runner, journal, entry, confirm=confirm,
                                      budget_seconds=budget_seconds, log=log)
        return _undo_interrupted(runner, journal, entry, confirm, budget_seconds, log)
    current = snapshots.current(runner)
    if current is None:
        raise snapshots.SnapshotError(f"stack {runner.stack_name!r} has no snapshot to roll back from")
    target = (snapshots.by_version(runner, version) if version is not None
              else snapshots.previous(runner, current.version))
    leaving = runner.ledger.switch_leaving(target.version) or {}
    backups = leaving.get("backups") or {}
    if not config_only:
        _refuse_without_backup(runner, target, backups)
        _refuse_bad_archives(backups, target)
    runner.check_policies(target.doc, op_id="policy-rollback")
    if not confirm(f"rollback {runner.stack_name}: update {current.version} ({current.settings.release}) -> "
                   f"update {target.version} ({target.settings.release})"
                   + (", configuration only: no data restored" if config_only else "")):
        return None
    journal.begin("rollback", new_op_id("rollback"), plan=["rollback"], toVersion=target.version,
                  fromRelease=current.settings.release, release=target.settings.release,
                  fromVersion=current.version)
    report = _journaled(journal, lambda: rollback(
        runner, target, reason=f"requested: back to update {target.version}"
        + (" (configuration only)" if config_only else ""),
        current_doc=current.doc, maintenance_on=current.settings.maintenance,
        backups={} if config_only else backups, baselines=baselines_since(runner, target.version),
        budget_seconds=budget_seconds, log=log, write_stack_file=True))
    if config_only:
        report["configOnly"] = ("configuration re-applied only: no data was restored nor verified "
                                "(--config-only)")
    return report


def _undo_interrupted(runner, journal, entry: dict, confirm, budget_seconds, log) -> dict | None:
    undo = recover.undo_arguments(runner, entry)
    target = undo.pop("target")
    _refuse_bad_archives(undo["backups"], target)
    runner.check_policies(target.doc, op_id="policy-rollback")
    if not confirm(f"rollback {runner.stack_name}: undo switch {entry['opId']} (interrupted) -> "
                   f"update {target.version} ({target.settings.release})"):
        return None
    journal.begin("rollback", new_op_id("rollback"), plan=["rollback"], toVersion=target.version,
                  fromRelease=entry.get("release"), release=target.settings.release,
                  fromVersion=entry.get("fromVersion"), undoes=entry)
    report = _journaled(journal, lambda: rollback(runner, target, budget_seconds=budget_seconds,
                                                   log=log, **undo))
    report["undid"] = {"opId": entry["opId"], "interruptedIn": recover.last_started(entry)}
    return report


def _journaled(journal, action):
    from ops.switch.rollback import RollbackFailed
    try:
        report = action()
    except RollbackFailed as failed:
        journal.finish("failed", error=str(failed))
        raise
    journal.finish(report["result"])
    return report


def _refuse_bad_archives(backups: dict, target) -> None:
    """Before any Pulumi call: every archive this rollback may read matches its manifest, where
    it is (rollback() checks them again as its first step, for the automatic rollbacks too)."""
    from ops.data_ops import DataOperationError, server_for, verify_archive
    server = server_for(target.settings, target.doc.plain_values())
    for manifest in backups.values():
        if manifest.get("archive"):
            try:
                verify_archive(manifest["archive"], manifest.get("sha256"), server)
            except DataOperationError as bad:
                raise snapshots.SnapshotError(str(bad)) from None


def _refuse_without_backup(runner, target, backups: dict) -> None:
    """A rollback that could restore nothing must not report a restored state."""
    database = target.settings.live_database
    if (backups.get(database) or {}).get("archive") or (backups.get(database) or {}).get("collections"):
        return
    nearest = sorted(
        (abs(row.version - target.version), row.version) for row in snapshots.rows(runner)
        if row.is_snapshot and row.version != target.version
        and _has_backup(runner, row.version))
    hint = (f"the nearest update with one is {nearest[0][1]} (`rollback --to {nearest[0][1]}`)"
            if nearest else "no update of this stack has one")
    raise snapshots.SnapshotError(
        f"update {target.version} has no backup of {database} recorded (no switch started from it): "
        f"a rollback to it would restore no data; {hint}; or `--config-only` to re-apply its "
        "configuration without any data (nothing was changed)")


def _has_backup(runner, version: int) -> bool:
    leaving = runner.ledger.switch_leaving(version) or {}
    return any(b.get("archive") for b in (leaving.get("backups") or {}).values())


def baselines_since(runner: StackRunner, version: int) -> dict[str, str]:
    """Post-migration baselines of switches after `version`, earliest first per database."""
    found: dict[str, str] = {}
    for entry in runner.ledger.entries("switch"):
        if (entry.get("fromVersion") or 0) >= version and entry.get("result") == "succeeded":
            for database, path in (entry.get("baselines") or {}).items():
                found.setdefault(database, path)
    return found
