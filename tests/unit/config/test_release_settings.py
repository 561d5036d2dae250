"""The release section of a stack's configuration: defaults, and errors that name the key."""
from __future__ import annotations

import pytest

from config.release_settings import ReleaseConfigError, load_release_settings

BASE = {
    "meeshy:release": "2026.02.1",
    "meeshy:database": {"name": "meeshy", "replicaSet": {"name": "rs0"}},
    "meeshy:backupDir": "/var/backups/meeshy/production",
    "meeshy:migration": {"sourceDatabase": "meeshy", "targetDatabase": "meeshy_v2"},
}


def load(**changes):
    values = {**BASE, **{f"meeshy:{k}": v for k, v in changes.items()}}
    values = {k: v for k, v in values.items() if v is not None}
    return load_release_settings("production", values)


def test_reads_every_key_with_defaults():
    s = load()
    assert (s.release, s.live_database, s.maintenance) == ("2026.02.1", "meeshy", False)
    assert (s.backup.directory, s.backup.retain, s.backup.timeout_seconds) == \
        ("/var/backups/meeshy/production", 10, 300)
    assert (s.migration.source_database, s.migration.target_database, s.migration.pass_id,
            s.migration.to_step) == ("meeshy", "meeshy_v2", "", None)
    assert s.migration.live_source is False
    assert s.health.deadline_seconds == 120 and not s.external and not s.migrates_live_database


def test_defaults_match_the_platform_settings():
    s = load_release_settings("staging", {})
    assert (s.release, s.live_database, s.backup.directory, s.migration) == \
        ("unreleased", "meeshy", "/var/backups/meeshy", None)


def test_json_text_from_the_engine_is_decoded():
    s = load(database='{"name": "meeshy_v2"}', maintenance="true",
             healthGate='{"deadlineSeconds": 30, "endpoints": {"gateway": "http://127.0.0.1:1/health"}}')
    assert s.live_database == "meeshy_v2" and s.maintenance is True and s.migrates_live_database
    assert s.health.deadline_seconds == 30
    assert dict(s.health.endpoints) == {"gateway": "http://127.0.0.1:1/health"}


def test_external_uri_loses_trailing_slash():
    assert load(externalDatabase={"uri": "mongodb://127.0.0.1:27017/"}).external_uri == \
        "mongodb://127.0.0.1:27017"


@pytest.mark.parametrize("changes, message", [
    ({"migration": {"sourceDatabase": "meeshy", "targetDatabase": "meeshy"}},
     "meeshy:migration.targetDatabase: must differ from migration.sourceDatabase"),
    ({"migration": {"sourceDatabase": "meeshy"}}, "meeshy:migration.targetDatabase is required"),
    ({"database": {"name": "my db"}},
     "meeshy:database.name: expected a MongoDB database name (letters, digits, '_', '-'), got 'my db'"),
    ({"backupDir": "backups"},
     "meeshy:backupDir: expected an absolute host path without '..', got 'backups'"),
    ({"backup": {"retain": 0}}, "meeshy:backup.retain must be between 1 and 1000, got 0"),
    ({"backup": {"retain": "many"}}, "meeshy:backup.retain must be a number, got 'many'"),
    ({"healthGate": {"endpoints": {"gateway": "ftp://x"}}},
     "meeshy:healthGate.endpoints.gateway: 'ftp://x' is not an http(s) URL"),
    ({"healthGate": {"intervalSeconds": True}}, "meeshy:healthGate.intervalSeconds must be a number"),
    ({"externalDatabase": {"uri": "mongodb://h:1/meeshy"}},
     "meeshy:externalDatabase.uri: 'mongodb://h:1/meeshy' is not a server URI without database"),
    ({"maintenance": "yes"}, "meeshy:maintenance: expected true or false, got 'yes'"),
    ({"migration": "meeshy_v2"}, "meeshy:migration.sourceDatabase: meeshy:migration must be an object"),
])
def test_bad_values_name_the_full_key(changes, message):
    with pytest.raises(ReleaseConfigError) as error:
        load(**changes)
    assert message in str(error.value)


def test_every_problem_is_listed_in_one_error():
    with pytest.raises(ReleaseConfigError) as error:
        load(backup={"retain": 0, "timeoutSeconds": "long"}, maintenance="yes",
             migration={"sourceDatabase": "meeshy", "targetDatabase": "meeshy"},
             tools={"image": "isopen/meeshy-infra-tools:latest"},
             healthGate={"endpoints": {"Bad Name": "http://x", "gateway": "ftp://x"}})
    assert [p.split(" ")[0].rstrip(":") for p in error.value.problems] == [
        "meeshy:backup.retain", "meeshy:backup.timeoutSeconds",
        "meeshy:healthGate.endpoints.Bad", "meeshy:healthGate.endpoints.gateway",
        "meeshy:migration.targetDatabase", "meeshy:tools.image", "meeshy:maintenance"]
    assert str(error.value).startswith("7 problems in the release settings:\n  - meeshy:backup.retain")


def test_a_section_that_is_not_an_object_is_one_problem():
    with pytest.raises(ReleaseConfigError) as error:
        load(migration="meeshy_v2")
    assert error.value.problems == [
        "meeshy:migration.sourceDatabase: meeshy:migration must be an object"]


def test_the_operators_decisions_are_the_default():
    assert load().migration.decisions == {"notifications": "drop", "read-statuses": "migrate"}


def test_the_alternative_decisions_are_read_from_the_stack_file():
    s = load(migration={**BASE["meeshy:migration"],
                        "decisions": {"notifications": "migrate", "readStatuses": "drop"}})
    assert s.migration.decisions == {"notifications": "migrate", "read-statuses": "drop"}


@pytest.mark.parametrize("decisions, message", [
    ({"notifications": "keep"},
     "meeshy:migration.decisions.notifications: must be one of drop, migrate, got 'keep'"),
    ({"readStatuses": True},
     "meeshy:migration.decisions.readStatuses: must be one of drop, migrate, got True"),
    ({"read-statuses": "drop"},
     "meeshy:migration.decisions.read-statuses: unknown decision; expected one of "
     "notifications, readStatuses"),
    ("drop", "meeshy:migration.decisions must be an object"),
])
def test_a_bad_decision_names_the_full_key(decisions, message):
    with pytest.raises(ReleaseConfigError) as error:
        load(migration={**BASE["meeshy:migration"], "decisions": decisions})
    assert message in str(error.value)


@pytest.mark.parametrize("stack", ["production", "staging"])
def test_both_stack_files_state_the_operators_decisions(stack):
    from pathlib import Path

    import yaml
    path = Path(__file__).resolve().parents[3] / f"Pulumi.{stack}.yaml"
    migration = yaml.safe_load(path.read_text())["config"]["meeshy:migration"]
    assert migration["decisions"] == {"notifications": "drop", "readStatuses": "migrate"}


def test_every_decision_of_the_chain_has_a_stack_file_key():
    from config.release_decisions import DECISION_KEYS
    from migration.meeshy.decisions import DECISIONS
    assert sorted(DECISION_KEYS.values()) == sorted(DECISIONS)


def test_the_window_flag_is_refused_outside_a_switchs_window_update_naming_why():
    """`migration.window` runs the migration into the database the services use: only under
    maintenance, with the services on its target and the source frozen."""
    window = {**BASE["meeshy:migration"], "pass": "sw1-delta", "window": True}
    s = load(migration=window, maintenance=True, database={"name": "meeshy_v2"})
    assert s.migrates_in_window and s.migrates_live_database
    with pytest.raises(ReleaseConfigError) as refused:
        load(migration={**window, "liveSource": True}, database={"name": "meeshy"})
    text = str(refused.value)
    assert "meeshy:migration.window" in text and "meeshy:maintenance is not on" in text
    assert "do not use the migration's target ('meeshy_v2')" in text and "liveSource is on" in text
    assert not load().migrates_in_window
