"""`preview` before the first deployment (the takeover's step 2): the stack's database container
does not exist yet, so the migration's dry run is skipped and said so, instead of failing the
verb on a `docker run` into a network nobody created. In external-database mode the server
exists already and the dry run runs."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from config.stack_file import ConfigDoc
from ops import data_ops, views
from ops.automation import snapshots
from ops.automation.ledger import Ledger

MIGRATION = {"sourceDatabase": "meeshy", "targetDatabase": "meeshy_v2"}


class PreviewRunner:
    stack_name = "production"

    def __init__(self, tmp_path, config):
        self.ledger, self.doc = Ledger(tmp_path), ConfigDoc({"encryptionsalt": "v1:x"}, config)

    def desired(self):
        return self.doc

    def preview(self, doc, *, op_id):
        return SimpleNamespace(change_summary={"create": 30, "import": 3},
                               stdout="= docker:index:Volume import")


@pytest.fixture
def planned(monkeypatch):
    calls = []
    monkeypatch.setattr(snapshots, "current", lambda runner: None)
    monkeypatch.setattr(data_ops, "migration_plan", lambda server, source, target, path, **options:
                        calls.append((source, target)) or {"summary": {"ok": True}})
    return calls


def test_nothing_deployed_in_docker_mode_skips_the_dry_run_and_says_why(tmp_path, planned):
    runner = PreviewRunner(tmp_path, {"meeshy:release": "r1", "meeshy:database": {"name": "meeshy_v2"},
                                      "meeshy:backupDir": "/b", "meeshy:migration": MIGRATION,
                                      "meeshy:tools": {"image": "meeshy-local/meeshy-infra-tools:1"}})
    logged = []
    report = views.preview(runner, log=logged.append)
    assert planned == []
    assert "backup-and-migrate" in report["migration"]["skipped"]
    assert report["changes"] == {"create": 30, "import": 3}
    assert any("dry run meeshy -> meeshy_v2: skipped" in line for line in logged)


def test_nothing_deployed_with_an_external_database_still_runs_the_dry_run(tmp_path, planned):
    runner = PreviewRunner(tmp_path, {"meeshy:release": "r1", "meeshy:database": {"name": "meeshy_v2"},
                                      "meeshy:backupDir": "/b", "meeshy:migration": MIGRATION,
                                      "meeshy:externalDatabase": {"uri": "mongodb://127.0.0.1:1"}})
    report = views.preview(runner, log=lambda line: None)
    assert planned == [("meeshy", "meeshy_v2")]
    assert report["migration"]["summary"] == {"ok": True}
