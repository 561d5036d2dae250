"""ops' records of a stack, beside the state they describe (ops.automation.env.OpsEnvironment.ledger_root).

- ledger.jsonl: one JSON object per line, appended, never rewritten:
    {"kind": "update", "version", "operation", "opId", "phase", "snapshot", "result", "release", "at"}
    {"kind": "switch" | "rollback", "opId", ... the operation's report summary}
    {"kind": "smoke", "url", "ok", "checks": [{"name", "ok", "detail", "seconds"}]} (ops/smoke_verb.py)
    {"kind": "smoke-user", "username", "database", "image"} (a smoke user given a password)
- smoke-user.json: the smoke user's name and password, mode 0600 (ops/smoke_user.py).
- configs/v<version>.yaml: the exact configuration file an ops update ran with (ciphertext
  secrets included), so re-applying a snapshot re-applies exactly that.
- reports/<opId>.json: full switch and rollback reports.
- baselines/<opId>-<database>.json.gz: ids and document hashes of a database right after a
  switch migrated it, to count writes a later rollback abandons.
"""
from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Iterator


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")


def new_op_id(kind: str) -> str:
    return f"{kind}-{dt.datetime.now(dt.timezone.utc).strftime('%Y%m%dT%H%M%S%f')[:-3]}Z"


class Ledger:
    def __init__(self, root: Path):
        self.root = Path(root)

    @property
    def path(self) -> Path:
        return self.root / "ledger.jsonl"

    def append(self, entry: dict) -> dict:
        self.root.mkdir(parents=True, exist_ok=True)
        entry = {"at": now_iso(), **entry}
        with self.path.open("a") as handle:
            handle.write(json.dumps(entry, sort_keys=True, default=str) + "\n")
        return entry

    def entries(self, kind: str | None = None) -> Iterator[dict]:
        if not self.path.is_file():
            return
        for line in self.path.read_text().splitlines():
            if line.strip():
                entry = json.loads(line)
                if kind is None or entry.get("kind") == kind:
                    yield entry

    def update(self, version: int) -> dict | None:
        found = None
        for entry in self.entries("update"):
            if entry.get("version") == version:
                found = entry
        return found

    def phase_update(self, op_id: str, phase: str) -> dict | None:
        """The last successful update a phase of operation `op_id` made."""
        found = None
        for entry in self.entries("update"):
            if (entry.get("opId"), entry.get("phase"), entry.get("result")) == (op_id, phase, "succeeded"):
                found = entry
        return found

    def operation(self, op_id: str) -> dict | None:
        found = None
        for entry in self.entries():
            if entry.get("kind") in ("switch", "rollback") and entry.get("opId") == op_id:
                found = entry
        return found

    # -- files -------------------------------------------------------------------------
    def config_path(self, version: int) -> Path:
        return self.root / "configs" / f"v{version}.yaml"

    def keep_config(self, version: int, source: Path) -> Path:
        target = self.config_path(version)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        return target

    def scratch(self, name: str) -> Path:
        path = self.root / "scratch" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def report_path(self, op_id: str) -> Path:
        path = self.root / "reports" / f"{op_id}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def baseline_path(self, op_id: str, database: str) -> Path:
        path = self.root / "baselines" / f"{op_id}-{database}.json.gz"
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    # -- queries -----------------------------------------------------------------------
    def switch_leaving(self, version: int) -> dict | None:
        """The first switch that started from `version` (it holds the backup taken under
        maintenance of the data that version used, and the baseline of what it migrated)."""
        for entry in self.entries("switch"):
            if entry.get("fromVersion") == version:
                return entry
        return None

    def latest_backup(self, database: str) -> dict | None:
        """The newest backup of `database` ops knows: taken by a switch under maintenance or
        by any successful update's MongoBackup."""
        found = None
        for entry in self.entries():
            backup = (entry.get("backups") or {}).get(database)
            if entry.get("kind") == "update" and entry.get("result") == "succeeded":
                candidate = ((entry.get("release") or {}).get("backup") or {})
                if candidate.get("database") == database:
                    backup = candidate
            if backup and backup.get("archive"):   # a fingerprint alone restores nothing
                found = backup
        return found
