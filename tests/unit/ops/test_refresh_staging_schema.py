"""refresh-staging restores into a database of the backup's schema: production's legacy backup
into staging's migration source (then migrated), a migrated production's backup into staging's
target database, not migrated again (the data operations are stand-ins; the real restore and
migration run in the e2e suite)."""
from __future__ import annotations

import pytest

from config.release_settings import load_release_settings
from config.stack_file import ConfigDoc
from ops import refresh_staging as refresh
from ops.automation.ledger import Ledger
from ops.automation.snapshots import Snapshot

MIGRATION = {"sourceDatabase": "meeshy", "targetDatabase": "meeshy_v2"}


def _doc(stack_database: str, uri: str) -> ConfigDoc:
    return ConfigDoc({"encryptionsalt": "v1:x"}, {
        "meeshy:release": "r", "meeshy:database": {"name": stack_database},
        "meeshy:backupDir": "/b", "meeshy:externalDatabase": {"uri": uri},
        "meeshy:migration": MIGRATION})


class Runner:
    def __init__(self, tmp_path, name, doc):
        self.stack_name, self.ledger, self._doc = name, Ledger(tmp_path / name), doc

    def desired(self):
        return self._doc


def _stacks(tmp_path, monkeypatch, production_on: str) -> tuple[Runner, Runner]:
    """Production deployed on `production_on` with one backup of it; staging beside it."""
    production_doc = _doc(production_on, "mongodb://127.0.0.1:1")
    production = Runner(tmp_path, "production", production_doc)
    staging = Runner(tmp_path, "staging", _doc("meeshy", "mongodb://127.0.0.1:2"))
    monkeypatch.setattr(refresh.snapshots, "current", lambda runner: Snapshot(
        3, production_doc, load_release_settings("production", production_doc.plain_values()), ""))
    monkeypatch.setattr(refresh, "latest_backup", lambda runner: (None, {
        "backupId": "b1", "archive": "/b/b1.archive.gz", "sha256": "0" * 64,
        "database": production_on, "documents": 7}))
    return production, staging


@pytest.mark.parametrize("production_on, restored_into, migrated", [
    ("meeshy", "meeshy", True), ("meeshy_v2", "meeshy_v2", False)])
def test_the_backup_goes_into_the_database_of_its_schema(tmp_path, monkeypatch, production_on,
                                                          restored_into, migrated):
    production, staging = _stacks(tmp_path, monkeypatch, production_on)
    restored, ran = [], []
    monkeypatch.setattr(refresh.data_ops, "digests", lambda server, database, timeout: {})
    monkeypatch.setattr(refresh.data_ops, "restore_and_verify",
                        lambda server, archive, source, into, timeout: restored.append((source, into))
                        or {"verified": True})
    monkeypatch.setattr(refresh.subprocess, "run", lambda argv, **kw: ran.append(argv) or type(
        "Done", (), {"returncode": 0, "stdout": "", "stderr": ""})())
    report = refresh.refresh_staging(staging, production, log=lambda m: None)
    assert restored == [(production_on, restored_into)]
    assert bool(ran) is migrated and report["result"] == "succeeded"


def test_staging_target_is_kept_then_emptied_before_the_migration(tmp_path, monkeypatch):
    """What Meeshy's gateway wrote into staging's target database at its start is archived,
    dropped only as archived, and the report says where; then the migration runs."""
    production, staging = _stacks(tmp_path, monkeypatch, "meeshy")
    calls = []
    monkeypatch.setattr(refresh.data_ops, "restore_and_verify", lambda *a: {"verified": True})
    monkeypatch.setattr(refresh.data_ops, "digests", lambda server, database, timeout: calls.append(
        ("digests", database)) or {"User": {"count": 3}, "Message": {"count": 0}})
    monkeypatch.setattr(refresh.data_ops, "take_backup", lambda server, settings, database, label,
                        timeout: calls.append(("backup", database)) or {"archive": "/b/kept.gz"})
    monkeypatch.setattr(refresh.data_ops, "drop_if_archived", lambda server, database, archive,
                        timeout: calls.append(("drop", database, archive)) or {"dropped": database})
    monkeypatch.setattr(refresh.subprocess, "run", lambda argv, **kw: calls.append(("migrate",))
                        or type("Done", (), {"returncode": 0, "stdout": "", "stderr": ""})())
    report = refresh.refresh_staging(staging, production, log=lambda m: None)
    assert calls == [("digests", "meeshy_v2"), ("backup", "meeshy_v2"),
                     ("drop", "meeshy_v2", "/b/kept.gz"), ("migrate",)]
    assert report["replaced"] == {"database": "meeshy_v2", "documents": 3,
                                  "keptIn": "/b/kept.gz", "dropped": True}
