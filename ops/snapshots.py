"""The stack's snapshots: which successful update is the deployed state, and what each applied.

A snapshot is an update that left the stack in a released state: the last update of a
successful ops operation (a switch's maintenance-off, a rollback's re-apply, a deploy).
Intermediate phases of a switch are updates too, but not snapshots. The file backend records no
configuration in its history, so a snapshot's configuration is the file ops kept for it.
"""
from __future__ import annotations

from dataclasses import dataclass

from components.release_settings import ReleaseSettings, load_release_settings
from ops.ledger import Ledger
from ops.stack_config import ConfigDoc
from ops.stack_runner import MESSAGE_PREFIX, StackRunner


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

    @property
    def by_ops(self) -> bool:
        return self.ledger is not None

    @property
    def is_snapshot(self) -> bool:
        if self.result != "succeeded":
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
                              str(update.start_time), str(update.end_time or ""), entry))
    return out


def load(ledger: Ledger, stack: str, version: int, message: str = "") -> Snapshot:
    path = ledger.config_path(version)
    if not path.is_file():
        raise SnapshotError(
            f"update {version} of stack {stack!r} was not made through ops, and the file backend "
            "does not record configurations: there is nothing to re-apply for it")
    doc = ConfigDoc.read(path)
    return Snapshot(version, doc, load_release_settings(stack, doc.plain_values()), message)


def current(runner: StackRunner) -> Snapshot | None:
    """The deployed snapshot: the newest successful snapshot update (None: never deployed)."""
    for row in rows(runner):
        if row.is_snapshot:
            if not row.by_ops:
                raise SnapshotError(
                    f"the latest successful update ({row.version}, {row.message or 'no message'!r}) "
                    "was made outside ops: its configuration is unknown to the file backend. "
                    "Deploy through `./meeshy deploy` or `python -m ops switch` so every update "
                    "keeps its configuration")
            return load(runner.ledger, runner.stack_name, row.version, row.message)
    return None


def previous(runner: StackRunner, before: int) -> Snapshot:
    """The newest snapshot older than version `before`."""
    for row in rows(runner):
        if row.version < before and row.is_snapshot and row.by_ops:
            return load(runner.ledger, runner.stack_name, row.version, row.message)
    raise SnapshotError(f"no snapshot made through ops before update {before}: nothing to roll back to")


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
            return load(runner.ledger, runner.stack_name, version, row.message)
    raise SnapshotError(f"stack {runner.stack_name!r} has no update {version}")


def is_ops_message(message: str) -> bool:
    return message.startswith(MESSAGE_PREFIX + " ")
