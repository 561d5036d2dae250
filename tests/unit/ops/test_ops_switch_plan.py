"""The phases of a switch as configurations, and the stack-config document ops edits."""
from __future__ import annotations

import pytest

from config.release_settings import load_release_settings
from config.stack_file import ConfigDoc, StackConfigError, from_history_config
from ops.switch.plan import flips_to_migration_target, plan, written_back

SALT = {"encryptionsalt": "v1:abc"}
SECRET = {"secure": "v1:ciphertext"}
MIGRATION = {"sourceDatabase": "meeshy", "targetDatabase": "meeshy_v2"}


def doc(**config) -> ConfigDoc:
    values = {"meeshy:jwtSecret": SECRET, "meeshy:backupDir": "/b"}
    values.update({f"meeshy:{k}": v for k, v in config.items()})
    return ConfigDoc(dict(SALT), values)


def settings(d: ConfigDoc):
    return load_release_settings("production", d.plain_values())


def names(phases):
    return [p.name for p in phases]


def test_switch_to_the_migrated_database_runs_full_then_delta_under_maintenance():
    deployed = doc(release="r1", database={"name": "meeshy"}, images={"gateway": "g:1"})
    desired = doc(release="r2", database={"name": "meeshy_v2"}, images={"gateway": "g:2"},
                  migration=dict(MIGRATION))
    phases = plan(deployed, settings(deployed), desired, settings(desired), "sw1")
    assert names(phases) == ["backup-and-migrate", "release", "maintenance-off"]
    migrate, release, final = (p.doc for p in phases)
    # The pre-copy: the services keep the deployed images and database, production takes writes.
    assert migrate.get_path("meeshy:images.gateway") == "g:1"
    assert migrate.get_path("meeshy:database.name") == "meeshy"
    assert migrate.get_path("meeshy:release") == "r2"
    assert migrate.get_path("meeshy:migration") == {**MIGRATION, "pass": "sw1-full",
                                                    "liveSource": True}
    assert settings(migrate).migration.live_source and migrate.get_path("meeshy:maintenance") is None
    # The release: maintenance on, the frozen delta pass in its window, the new images on the
    # new database, in one update (the stack orders them).
    assert release.get_path("meeshy:maintenance") is True
    assert release.get_path("meeshy:migration.pass") == "sw1-delta"
    window = settings(release)
    assert window.migration.window and not window.migration.live_source
    assert window.migrates_live_database and window.migrates_in_window
    assert release.get_path("meeshy:images.gateway") == "g:2"
    assert release.get_path("meeshy:database.name") == "meeshy_v2"
    assert [p.opens_window for p in phases] == [False, True, False]
    # The final document: no window flag (nothing would run the migration into it again).
    assert final.get_path("meeshy:maintenance") is False
    assert final.get_path("meeshy:migration.pass") == "sw1-delta"
    assert not settings(final).migrates_in_window
    # Under maintenance the legacy database is fingerprinted, not dumped (frozen.py).
    assert [p.backup_under_maintenance for p in phases] == [False] * 3
    assert [p.fingerprint_database for p in phases] == [None, "meeshy", None]
    assert phases[1].baseline_after == "meeshy_v2" and phases[-1].snapshot
    assert [p.policy_pack for p in phases] == [True, False, False]
    assert all(p.doc.config["meeshy:jwtSecret"] == SECRET and p.doc.header == SALT for p in phases)
    assert written_back(phases) == {"meeshy:migration.pass": "sw1-delta"}
    # The operator's document is untouched.
    assert desired.get_path("meeshy:migration.pass") is None


def test_a_release_on_the_same_database_backs_up_under_maintenance():
    deployed = doc(release="r2", database={"name": "meeshy_v2"},
                   migration={**MIGRATION, "pass": "sw1-delta"})
    desired = doc(release="r3", database={"name": "meeshy_v2"}, migration=dict(MIGRATION))
    assert not flips_to_migration_target(settings(deployed), settings(desired))
    phases = plan(deployed, settings(deployed), desired, settings(desired), "sw2")
    assert names(phases) == ["backup", "release", "maintenance-off"]
    backup, release, final = (p.doc for p in phases)
    assert backup.get_path("meeshy:release") == "r3" and backup.get_path("meeshy:backup.pass") == "sw2"
    assert backup.get_path("meeshy:maintenance") is True and phases[0].opens_window
    # The deployed images and database until the release phase.
    assert backup.get_path("meeshy:database.name") == "meeshy_v2"
    # The deployed migration pass is carried: dropping it from the file must not re-trigger.
    for d in (release, final):
        assert d.get_path("meeshy:migration.pass") == "sw1-delta"
        assert d.get_path("meeshy:backup.pass") == "sw2"
    assert [p.backup_under_maintenance for p in phases] == [True, False, False]
    assert written_back(phases) == {"meeshy:migration.pass": "sw1-delta", "meeshy:backup.pass": "sw2"}


def test_first_deployment_with_a_migration_starts_on_the_source_database():
    desired = doc(release="r1", database={"name": "meeshy_v2"}, migration=dict(MIGRATION))
    phases = plan(None, None, desired, settings(desired), "sw0")
    assert phases[0].doc.get_path("meeshy:database.name") == "meeshy"
    assert phases[-2].doc.get_path("meeshy:database.name") == "meeshy_v2"


def test_config_doc_paths_and_secrets(tmp_path):
    d = doc(database='{"name": "meeshy"}')
    d.set_path("meeshy:database.replicaSet.name", "rs0")
    assert d.get_path("meeshy:database") == {"name": "meeshy", "replicaSet": {"name": "rs0"}}
    with pytest.raises(StackConfigError, match="meeshy:jwtSecret is a secret"):
        d.set_path("meeshy:jwtSecret", "plain")
    with pytest.raises(StackConfigError, match="must look like namespace:key"):
        d.set_path("release", "x")
    with pytest.raises(StackConfigError, match="meeshy:backupDir is not an object"):
        d.set_path("meeshy:backupDir.x", 1)
    path = d.write(tmp_path / "Pulumi.production.yaml")
    again = ConfigDoc.read(path)
    assert again.config == d.config and again.header == SALT
    assert again.secret_keys() == {"meeshy:jwtSecret"}
    assert "meeshy:jwtSecret" not in again.plain_values()
    with pytest.raises(StackConfigError, match="not found"):
        ConfigDoc.read(tmp_path / "nope.yaml")


def test_history_configuration_takes_secrets_from_the_current_stack_file():
    class Value:
        def __init__(self, value, secret=False):
            self.value, self.secret = value, secret

    current = ConfigDoc({"encryptionsalt": "v1:salt"}, {"meeshy:jwtSecret": {"secure": "v1:cipher"},
                                                         "meeshy:release": "2"})
    recorded = {"meeshy:database": Value('{"name": "m"}'), "meeshy:release": Value("1"),
                "meeshy:jwtSecret": Value("[secret]", True)}
    d = from_history_config(recorded, current)
    assert d.header == {"encryptionsalt": "v1:salt"}
    assert d.config == {"meeshy:database": {"name": "m"}, "meeshy:release": "1",
                        "meeshy:jwtSecret": {"secure": "v1:cipher"}}
    with pytest.raises(StackConfigError, match="meeshy:adminPassword was a secret of that update"):
        from_history_config({"meeshy:adminPassword": Value("[secret]", True)}, current)


@pytest.mark.parametrize("database", ["meeshy_v2", "meeshy"])
def test_every_phase_backs_up_into_the_desired_backup_dir(database):
    deployed = doc(release="r1", database={"name": "meeshy"}, backupDir="/old")
    desired = doc(release="r2", database={"name": database}, backupDir="/new",
                  migration=dict(MIGRATION))
    phases = plan(deployed, settings(deployed), desired, settings(desired), "sw1")
    assert [p.doc.get_path("meeshy:backupDir") for p in phases] == ["/new"] * len(phases)
    assert deployed.get_path("meeshy:backupDir") == "/old"      # the snapshot itself is kept
