"""The stack's snapshots: which successful update is the deployed state, and what each applied.

A snapshot is an update that left the stack in a released state: the last update of a
successful ops operation (a switch's maintenance-off, a rollback's re-apply, a deploy), or any
successful update made outside ops (`pulumi up`). Intermediate phases of a switch are updates
too, but not snapshots. A snapshot's configuration is the file ops kept for it, else the one
the stack's history recorded (plain values; secrets from the current stack file).
"""
from __future__ import annotations

from dataclasses import dataclass

from config.release_settings import ReleaseSettings, load_release_settings
from config.stack_file import ConfigDoc, from_history_config
from ops.automation.stack_runner import StackRunner


class SnapshotError(RuntimeError):
    pass


@dataclass
class Snapshot:
    version: int
    doc: ConfigDoc
    settings: ReleaseSettings
    message: str


@dataclass
class HistoryRow:
    version: int
    result: str
    message: str
    started: str
    ended: str
    ledger: dict | None          # ops' record of this update (None: made outside ops)
    config: dict | None = None   # the configuration the history recorded (ConfigValue map)
    kind: str = "update"         # update, refresh (a refresh applies no configuration)

    @property
    def by_ops(self) -> bool:
        return self.ledger is not None

    @property
    def is_snapshot(self) -> bool:
        if self.result != "succeeded" or self.kind != "update":
            return False
        return bool(self.ledger["snapshot"]) if self.ledger else True


def rows(runner: StackRunner) -> list[HistoryRow]:
    """Every update, newest first, joined with ops' records by version and message."""
    out = []
    for version, update in runner.history():
        entry = runner.ledger.update(version)
        if entry is not None and entry.get("message") != update.message:
            entry = None                      # not the update ops recorded under that number
        out.append(HistoryRow(version, update.result, update.message or "",
                              str(update.start_time), str(update.end_time or ""), entry,
                              update.config, str(getattr(update, "kind", "update") or "update")))
    return out


def load(runner: StackRunner, row: HistoryRow) -> Snapshot:
    path = runner.ledger.config_path(row.version)
    # ops' file for that number is read only when ops' record is this update's (rows() rejected
    # the record of another update that got the same number).
    if row.by_ops and path.is_file():
        doc = ConfigDoc.read(path)
    elif row.config:
        doc = from_history_config(row.config, runner.desired())
    else:
        raise SnapshotError(f"update {row.version} of stack {runner.stack_name!r} recorded no "
                            "configuration: there is nothing to re-apply for it")
    return Snapshot(row.version, doc, load_release_settings(runner.stack_name, doc.plain_values()),
                    row.message)


def current(runner: StackRunner) -> Snapshot | None:
    """The deployed snapshot: the newest successful snapshot update (None: never deployed)."""
    for row in rows(runner):
        if row.is_snapshot:
            return load(runner, row)
    return None


def previous(runner: StackRunner, before: int) -> Snapshot:
    """The newest snapshot older than version `before`."""
    for row in rows(runner):
        if row.version < before and row.is_snapshot:
            return load(runner, row)
    raise SnapshotError(f"no snapshot before update {before}: nothing to roll back to")


def by_version(runner: StackRunner, version: int) -> Snapshot:
    for row in rows(runner):
        if row.version == version:
            if row.result != "succeeded":
                raise SnapshotError(f"update {version} {row.result}: only a successful update "
                                    "can be re-applied")
            if row.by_ops and not row.ledger.get("snapshot"):
                raise SnapshotError(
                    f"update {version} is an intermediate phase ({row.message}), not a released "
                    "state; pick a snapshot from `history` (marked *)")
            return load(runner, row)
    raise SnapshotError(f"stack {runner.stack_name!r} has no update {version}")
