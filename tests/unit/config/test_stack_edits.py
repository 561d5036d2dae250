"""Typed edits of a stack's configuration (config/stack_edits.py) and the one stack-file reader."""
from pathlib import Path

import pytest

from config import stack_edits as edit
from config.release_settings import load_release_settings
from config.stack_file import ConfigDoc, StackConfigError, stack_config
from ops.data_ops import _replica_set
from ops.rehearse.stacks import edit_stack_file

SECRET = {"secure": "v1:abc"}


def doc():
    return ConfigDoc({"encryptionsalt": "v1:salt"}, {
        "meeshy:release": "r1", "meeshy:jwtSecret": SECRET, "meeshy:backupDir": "/b",
        "meeshy:database": {"name": "meeshy"},
        "meeshy:migration": {"sourceDatabase": "meeshy", "targetDatabase": "meeshy_v2"}})


def test_each_edit_sets_the_key_the_settings_models_read():
    d = doc().with_values({**edit.release("r2"), **edit.maintenance(True),
                           **edit.live_database("meeshy_v2"), **edit.backup_pass("op1"),
                           **edit.migration_pass("op1-delta", live_source=False),
                           **edit.images({"gateway": "g:2"})})
    s = load_release_settings("staging", d.plain_values())
    assert (s.release, s.maintenance, s.live_database, s.backup.pass_id) == ("r2", True, "meeshy_v2", "op1")
    assert (s.migration.pass_id, s.migration.live_source) == ("op1-delta", False)
    assert d.get_path("meeshy:images") == {"gateway": "g:2"}
    assert d.config["meeshy:jwtSecret"] == SECRET and doc().get_path("meeshy:release") == "r1"


def test_the_migration_section_keeps_its_keys_and_reads_back_its_passes():
    values = edit.migration_section(doc(), "op1-full", live_source=True)
    assert values == {"meeshy:migration": {"sourceDatabase": "meeshy", "targetDatabase": "meeshy_v2",
                                           "pass": "op1-full", "liveSource": True}}
    d = doc().with_values({**values, **edit.backup_pass("op1")})
    assert edit.passes(d) == {"meeshy:migration.pass": "op1-full", "meeshy:backup.pass": "op1"}
    assert edit.passes(doc()) == {} and edit.migration_pass("p") == {"meeshy:migration.pass": "p"}


def test_an_edit_never_replaces_a_secret():
    with pytest.raises(StackConfigError, match="is a secret"):
        doc().with_values({edit.key("jwtSecret"): "plain"})


def test_the_reader_reads_a_stack_file_or_nothing(tmp_path: Path):
    path = doc().write(tmp_path / "Pulumi.staging.yaml")
    assert stack_config(path) == doc().config
    assert stack_config(tmp_path / "Pulumi.none.yaml") == {}
    (tmp_path / "Pulumi.bad.yaml").write_text("config: [\n")
    with pytest.raises(StackConfigError, match="Pulumi.bad.yaml"):
        stack_config(tmp_path / "Pulumi.bad.yaml")


def test_the_rehearsal_edit_keeps_the_header_and_the_secrets(tmp_path: Path):
    path = doc().write(tmp_path / "Pulumi.rehearsal.yaml")
    edit_stack_file(path, {"meeshy:release": "r9"})
    assert ConfigDoc.read(path) == ConfigDoc({"encryptionsalt": "v1:salt"},
                                             {"meeshy:jwtSecret": SECRET, "meeshy:release": "r9"})


@pytest.mark.parametrize("database, expected", [
    (None, ("rs0", True)),
    ({"name": "m"}, ("rs0", True)),
    ('{"replicaSet": {"name": "rs1"}}', ("rs1", True)),
    ({"replicaSet": {"enabled": "false"}}, ("rs0", False)),
    ({"replicaSet": {"enabled": False, "name": "x"}}, ("x", False)),
])
def test_ops_reads_the_replica_set_as_the_platform_does(database, expected):
    values = {} if database is None else {"meeshy:database": database}
    replica = _replica_set(values)
    assert (replica.name, replica.enabled) == expected
