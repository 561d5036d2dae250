"""A rollback says exactly what it did: `--to` an update without a backup refuses naming the
nearest one with a backup, unless `--config-only` (which restores nothing and says so); an
archive altered since it was recorded is refused before any Pulumi call; ops' kept
configuration is read only for the update ops recorded; a switch's backup folder is checked
for room first."""
from __future__ import annotations

import json
import os

import pytest

from ops import journal as journals
from steps.backup_manifest import file_sha256, manifest_path


def _rollback_runner(tmp_path, monkeypatch, backed_up: int):
    """A stack with snapshots 1, 3, 5 (5 deployed); only a switch from `backed_up` took a backup."""
    from config.release_settings import load_release_settings
    from config.stack_file import ConfigDoc
    from ops.automation import snapshots
    from ops.automation.ledger import Ledger
    from ops.automation.snapshots import HistoryRow, Snapshot

    def snap(version):
        doc = ConfigDoc({"encryptionsalt": "v1:x"}, {
            "meeshy:release": f"r{version}", "meeshy:database": {"name": "meeshy"},
            "meeshy:backupDir": "/b", "meeshy:externalDatabase": {"uri": "mongodb://127.0.0.1:1"}})
        return Snapshot(version, doc, load_release_settings("production", doc.plain_values()), "")

    rows = [HistoryRow(v, "succeeded", f"m{v}", "", "", {"snapshot": True, "message": f"m{v}"})
            for v in (5, 3, 1)]
    monkeypatch.setattr(snapshots, "rows", lambda runner: rows)
    monkeypatch.setattr(snapshots, "current", lambda runner: snap(5))
    monkeypatch.setattr(snapshots, "by_version", lambda runner, version: snap(version))

    class Runner:
        stack_name, ledger = "production", Ledger(tmp_path)

        def check_policies(self, doc, op_id):
            pass

    runner = Runner()
    archive = tmp_path / "x.archive.gz"
    archive.write_bytes(os.urandom(64))
    manifest_path(archive).write_text(json.dumps({"backupId": "x", "sha256": file_sha256(archive)}))
    runner.ledger.append({"kind": "switch", "fromVersion": backed_up, "result": "succeeded",
                          "backups": {"meeshy": {"archive": str(archive), "backupId": "x"}}})
    return runner


def test_rollback_to_an_update_without_backup_refuses_naming_the_nearest_with_one(tmp_path,
                                                                                monkeypatch):
    from ops.automation.snapshots import SnapshotError
    from ops.switch import rollback_verb
    runner = _rollback_runner(tmp_path, monkeypatch, backed_up=1)
    applied = []

    def fake_rollback(runner, target, **kw):
        applied.append((target.version, kw))
        return {"result": "succeeded"}

    monkeypatch.setattr(rollback_verb, "rollback", fake_rollback)
    with pytest.raises(SnapshotError) as refused:
        rollback_verb.rollback_to(runner, 3, confirm=lambda s: True, budget_seconds=60)
    assert "update 3 has no backup of meeshy" in str(refused.value)
    assert "nearest update with one is 1" in str(refused.value) and "--config-only" in str(refused.value)
    assert applied == [] and journals.Journal(tmp_path).read() is None

    report = rollback_verb.rollback_to(runner, 3, confirm=lambda s: True, budget_seconds=60,
                                       config_only=True)
    assert applied[0][0] == 3 and applied[0][1]["backups"] == {}
    assert "no data was restored" in report["configOnly"]
    assert rollback_verb.rollback_to(runner, 1, confirm=lambda s: True, budget_seconds=60)
    assert applied[1][1]["backups"]["meeshy"]["backupId"] == "x"
    (tmp_path / "x.archive.gz").write_bytes(os.urandom(64))         # altered since
    with pytest.raises(SnapshotError, match="fails its checksum"):
        rollback_verb.rollback_to(runner, 1, confirm=lambda s: True, budget_seconds=60)
    assert len(applied) == 2


def test_ops_config_file_is_not_loaded_for_an_update_ops_did_not_make(tmp_path):
    """Update 2 in the history is an operator's `pulumi up`; ops' ledger has a record (and a
    kept configs/v2.yaml) under the same number from another update: that file is not used."""
    from types import SimpleNamespace

    from config.stack_file import ConfigDoc
    from ops.automation import snapshots
    from ops.automation.ledger import Ledger

    ledger = Ledger(tmp_path)
    kept = tmp_path / "other.yaml"
    ConfigDoc({"encryptionsalt": "v1:x"}, {"meeshy:release": "from-ops-file",
                                            "meeshy:database": {"name": "meeshy"},
                                            "meeshy:backupDir": "/b"}).write(kept)
    ledger.keep_config(2, kept)
    ledger.append({"kind": "update", "version": 2, "message": "meeshy-ops deploy-1 deploy",
                   "snapshot": True, "result": "succeeded"})
    history_config = {"meeshy:release": SimpleNamespace(value="by-hand", secret=False),
                      "meeshy:database": SimpleNamespace(value='{"name": "meeshy"}', secret=False),
                      "meeshy:backupDir": SimpleNamespace(value="/b", secret=False)}
    update = SimpleNamespace(result="succeeded", message="operator: r2 by hand", start_time="t",
                             end_time="t", config=history_config, kind="update")
    refresh = SimpleNamespace(result="succeeded", message="", start_time="t", end_time="t",
                              config={}, kind="refresh")

    class Runner:
        stack_name = "production"

        def __init__(self):
            self.ledger = ledger

        def history(self):
            return [(3, refresh), (2, update)]

        def desired(self):
            return ConfigDoc({"encryptionsalt": "v1:x"}, {})

    current = snapshots.current(Runner())          # the refresh above it is no snapshot
    assert current.version == 2 and current.settings.release == "by-hand"


def test_a_backup_dir_without_room_for_the_last_archive_twice_is_refused(tmp_path, monkeypatch):
    import shutil
    from collections import namedtuple

    from config.release_settings import load_release_settings
    from ops import data_ops
    settings = load_release_settings("production", {
        "meeshy:release": "r", "meeshy:database": {"name": "meeshy"},
        "meeshy:backupDir": str(tmp_path / "new" / "backups"),
        "meeshy:externalDatabase": {"uri": "mongodb://127.0.0.1:1"}})
    last = {"database": "meeshy", "backupId": "b7", "sizeBytes": 600_000_000}
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(0, 0, 1_000_000_000))
    problem = data_ops.backup_dir_problem(settings, last)
    assert "1000.0 MB free" in problem and "1200.0 MB" in problem and "b7" in problem
    assert data_ops.backup_dir_problem(settings, {**last, "sizeBytes": 400_000_000}) is None
    assert data_ops.backup_dir_problem(settings, None) is None
    (tmp_path / "new").write_text("a file where the folder should be")
    assert "is a file" in data_ops.backup_dir_problem(settings, last)
