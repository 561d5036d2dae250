"""Pure pieces of ops: abandoned-write counting, the migration step wrapper, the local command's
diff rules, history formatting and the CLI's usage errors."""
from __future__ import annotations

import json
import sys

import pytest

from ops import cli
from ops.views import format_history
from steps import data_check, migration_step


def test_changes_count_inserted_updated_deleted_per_collection():
    baseline = {"User": {"a": "1", "b": "2", "c": "3"}, "Empty": {}}
    live = {"User": {"a": "1", "b": "changed", "d": "4"}, "Message": {"m": "9"}, "Empty": {}}
    result = data_check.changes(baseline, live)
    assert result["collections"] == {"User": {"inserted": 1, "updated": 1, "deleted": 1},
                                     "Message": {"inserted": 1, "updated": 0, "deleted": 0}}
    assert (result["inserted"], result["updated"], result["deleted"], result["changed"]) == (2, 1, 1, 4)
    assert data_check.changes(baseline, baseline)["changed"] == 0


REPORT = {
    "command": "run", "ok": True, "seconds": 1.5, "to": None,
    "collections": {"User": {"documents": 3, "written": 2, "merged": 0, "quarantined": 1,
                             "dropped": 0, "inserted": 2, "step": "0001"},
                    "TypingIndicator": {"documents": 4, "dropped": 4}},
    "quarantine": {"documents": 1, "listed": [{"id": "x"}]},
    "verification": {"ok": True, "problems": [], "hashes": {"User": {"documents": 2, "sha256": "ab"}}},
}


def test_migration_summary_keeps_counts_and_verdict_not_ids():
    summary = migration_step.summarise(REPORT)
    assert summary["totals"]["documents"] == 7 and summary["totals"]["dropped"] == 4
    assert summary["collections"]["User"] == {"documents": 3, "written": 2, "merged": 0,
                                              "quarantined": 1, "dropped": 0, "inserted": 2}
    assert summary["quarantined"] == 1 and summary["verification"]["ok"] is True
    assert summary["targetHashes"] == {"User": "ab"} and "listed" not in json.dumps(summary)
    assert "liveSource" not in summary


def test_a_pre_copy_summary_keeps_the_source_growth_and_provisional_problems():
    verification = {**REPORT["verification"], "provisional": ["Message.senderId: 1 document"],
                    "source_changes": {"User": {"read": 3, "source_now": 5, "growth": 2},
                                       "TypingIndicator": {"read": 4, "source_now": 4,
                                                           "growth": 0}}}
    summary = migration_step.summarise({**REPORT, "live_source": True,
                                        "verification": verification})
    assert summary["liveSource"] and summary["sourceGrowth"] == {"User": 2}
    assert summary["provisional"] == ["Message.senderId: 1 document"]


def test_migration_step_prints_the_summary_and_passes_the_exit_code(tmp_path, capsys):
    report = tmp_path / "r.json"
    fake = [sys.executable, "-c",
            f"import json, sys; json.dump({REPORT!r}, open({str(report)!r}, 'w')); "
            "print('table'); sys.exit(3)"]
    assert migration_step.main(["--report", str(report), "--", *fake]) == 3
    out = capsys.readouterr()
    result = json.loads(out.out)
    assert result["exitCode"] == 3 and result["summary"]["totals"]["documents"] == 7
    assert "table" in out.err and "migration exited with 3" in out.err


def test_migration_step_stops_an_overrunning_migration(tmp_path, capsys):
    slow = [sys.executable, "-c", "import time; time.sleep(60)"]
    assert migration_step.main(["--report", str(tmp_path / "r.json"), "--timeout", "0.5", "--", *slow]) == 1
    result = json.loads(capsys.readouterr().out)
    assert result["timedOut"] is True and result["summary"] == {"error": "the migration wrote no report"}


def test_history_table_marks_snapshots():
    rows = [{"version": 2, "snapshot": True, "result": "succeeded", "started": "2026-01-01 10:00:00",
             "operation": "switch-1", "phase": "maintenance-off", "release": "r2",
             "databaseName": "meeshy_v2", "backupId": "production/meeshy/x"},
            {"version": 1, "snapshot": False, "result": "failed", "started": "2026-01-01 09:00:00",
             "operation": None, "phase": None, "release": None, "databaseName": None, "backupId": None}]
    table = format_history(rows).splitlines()
    assert table[1].split()[:3] == ["2", "*", "succeeded"] and "production/meeshy/x" in table[1]
    assert "(outside ops)" in table[2]


@pytest.mark.parametrize("argv, message", [
    (["switch"], "the following arguments are required: stack"),
    (["rollback", "production", "--to", "two"], "invalid int value: 'two'"),
    (["explode", "production"], "invalid choice: 'explode'"),
])
def test_cli_usage_errors_exit_2(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2 and message in capsys.readouterr().err


def test_cli_says_what_is_missing(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("MEESHY_TOOLS_DIR", str(tmp_path))
    assert cli.main(["history", "production"]) == 2
    assert "the Pulumi CLI is missing" in capsys.readouterr().err
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "pulumi").write_text("#!/bin/sh\n")
    (tmp_path / "bin" / "pulumi").chmod(0o755)
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE", raising=False)
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE_FILE", raising=False)
    assert cli.main(["history", "production"]) == 2
    assert "PULUMI_CONFIG_PASSPHRASE" in capsys.readouterr().err


def test_release_steps_name_python():
    # The commands say `python`, not this machine's virtualenv path: a deploy from a machine
    # with another tools cache must not see the release steps changed.
    from commands import steps as release_commands
    argv = release_commands.backup_command(release_commands.ExternalServer("mongodb://h"),
                                           backup_dir="/b", stack="production",
                                           database="meeshy", label="1.0.0", retain=3,
                                           timeout_seconds=60)
    assert argv[0] == "python" and sys.prefix not in " ".join(argv)


# What `pulumi preview --policy-pack policy` printed for a stack declaring staging's ports.
POLICY_OUTPUT = """\
Policies:
    \u274c meeshy-policies@v0.0.1 (local: policy)
        - [mandatory]  meeshy-host-ports-isolated  (pulumi:pulumi:Stack: meeshy-e2e698811)
          No host port published twice, only declared ports, none declared by another stack.
          host port 8080 ('meeshy-e2e698811-traefik') is also declared by stack 'staging'
        - [mandatory]  meeshy-host-ports-isolated  (pulumi:pulumi:Stack: meeshy-e2e698811)
          No host port published twice, only declared ports, none declared by another stack.
          host port 8443 ('meeshy-e2e698811-traefik') is also declared by stack 'staging'

Diagnostics:
  pulumi:pulumi:Stack (meeshy-e2e698811):
    error: preview failed
"""


def test_policy_violations_name_the_rule_the_resource_and_the_message():
    from ops.automation.stack_runner import policy_violations
    found = policy_violations(POLICY_OUTPUT)
    assert len(found) == 2
    assert found[0].startswith(
        "[mandatory] meeshy-host-ports-isolated (pulumi:pulumi:Stack: meeshy-e2e698811)")
    assert found[0].endswith(
        "host port 8080 ('meeshy-e2e698811-traefik') is also declared by stack 'staging'")
    assert "8443" in found[1] and policy_violations("error: preview failed") == []


def test_the_version_of_an_update_is_the_newest_entry_only_when_it_is_that_update():
    """stack_runner.recorded_version: the history's newest entry, numbered by position, when it
    carries the update's message and started after it began (the CLI's UTC whole seconds, as
    the SDK's naive datetime); None when the engine recorded nothing for it."""
    import datetime as dt
    from types import SimpleNamespace

    from ops.automation.stack_runner import recorded_version

    since = dt.datetime(2026, 12, 6, 3, 43, 12, 600000, tzinfo=dt.timezone.utc).timestamp()
    ours = SimpleNamespace(message="meeshy-ops op1 release", start_time=dt.datetime(2026, 12, 6, 3, 43, 12))
    older = SimpleNamespace(message="meeshy-ops op1 release", start_time=dt.datetime(2026, 12, 6, 3, 40, 1))
    other = SimpleNamespace(message="meeshy-ops op1 delta-migration",
                            start_time=dt.datetime(2026, 12, 6, 3, 43, 13))
    assert recorded_version([ours, other, older], "meeshy-ops op1 release", since) == 3
    # A resumed phase's earlier update has the same message: it is not this one.
    assert recorded_version([older, other], "meeshy-ops op1 release", since) is None
    assert recorded_version([other, older], "meeshy-ops op1 release", since) is None
    assert recorded_version([], "meeshy-ops op1 release", since) is None
