"""The platform model (config/settings.py) and the release model (config/release_settings.py) read
some keys of the same stack file: each such key follows one rule, so both give the same verdict
and, sharing one problem collector, the stack file gets one sentence per problem."""
import pytest

from config import validation as v
from config.release_settings import ReleaseConfigError, load_release_settings, parse_release_settings
from config.settings import SettingsError, load_settings, parse_settings
from testing.mock_engine import EXAMPLE_SECRETS, stack_file_config

# Every key both models read, as values of the stack file, with the value each model reads.
AGREED = [
    ("release", "r" * 64, "r" * 64),
    ("release", "2026.02.1+hotfix_1", "2026.02.1+hotfix_1"),
    ("release", None, "unreleased"),
    ("backupDir", "/srv/backups/", "/srv/backups"),
    ("backupDir", None, "/var/backups/meeshy"),
    ("database", {"name": "meeshy_v2"}, "meeshy_v2"),
    ("database", '{"name": "meeshy_v2"}', "meeshy_v2"),
    ("database", {"replicaSet": {"name": "rs0"}}, "meeshy"),
    ("maintenance", "true", True),
    ("maintenance", None, False),
]
REFUSED = [
    ("release", "r" * 65),
    ("release", ""),
    ("release", "1.0 final"),
    ("release", "1.0\n"),
    ("release", 2026),
    ("backupDir", "relative/dir"),
    ("backupDir", "/srv/../etc"),
    ("backupDir", ""),
    ("database", {"name": "my db"}),
    ("database", {"name": ""}),
    ("database", {"name": "d" * 64}),
    ("database", {"name": "meeshy\n"}),
    ("database", "meeshy"),
    ("maintenance", "yes"),
    ("maintenance", 1),
]
READ_AS = {"release": ("release", "release"), "backupDir": ("backup_dir", "backup.directory"),
           "database": ("database.name", "live_database"), "maintenance": ("maintenance", "maintenance")}


def values(key, value):
    values = {**stack_file_config("staging"), **EXAMPLE_SECRETS}
    values.pop(f"meeshy:{key}", None)
    if value is not None:
        values[f"meeshy:{key}"] = value
    return values


def attr(obj, path):
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


@pytest.mark.parametrize("key, value, expected", AGREED)
def test_both_models_read_a_shared_key_alike(key, value, expected):
    platform_field, release_field = READ_AS[key]
    assert attr(load_settings("staging", values(key, value)), platform_field) == expected
    assert attr(load_release_settings("staging", values(key, value)), release_field) == expected


@pytest.mark.parametrize("key, value", REFUSED)
def test_both_models_refuse_a_bad_shared_key_in_the_same_words(key, value):
    with pytest.raises(SettingsError) as platform:
        load_settings("staging", values(key, value))
    with pytest.raises(ReleaseConfigError) as release:
        load_release_settings("staging", values(key, value))
    assert release.value.problems == platform.value.problems
    assert release.value.problems[0].startswith(f"meeshy:{key}")


def test_one_collector_names_a_shared_key_once():
    problems = v.Problems()
    config = values("release", "r" * 65)
    config["meeshy:backup"] = {"retain": 0}
    parse_settings("staging", config, problems)
    parse_release_settings("staging", config, problems)
    assert problems.items == [
        "meeshy:release: expected a release label (letters, digits, '.', '_', '+', '-'; at most 64), "
        f"got {'r' * 65!r}",
        "meeshy:backup.retain must be between 1 and 1000, got 0"]
