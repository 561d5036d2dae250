"""The one settings model of a stack file (config/stack_settings.py): the keys both of its
sections read (platform and release) are read once, so both sections hold the same value, a bad
value is one sentence of one SettingsError, and a section parsed alone gives the same verdict."""
import pytest

from config.release_settings import ReleaseConfigError, load_release_settings
from config.settings import SettingsError, load_settings
from config.stack_settings import load_stack, parse_stack
from testing.mock_pulumi import EXAMPLE_SECRETS, stack_file_config

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
def test_both_sections_hold_a_shared_key_read_once(key, value, expected):
    platform_field, release_field = READ_AS[key]
    stack = load_stack("staging", values(key, value))
    assert attr(stack.platform, platform_field) == expected
    assert attr(stack.release, release_field) == expected
    # Each section parsed alone reads it by the same rule.
    assert attr(load_settings("staging", values(key, value)), platform_field) == expected
    assert attr(load_release_settings("staging", values(key, value)), release_field) == expected


@pytest.mark.parametrize("key, value", REFUSED)
def test_a_bad_shared_key_is_one_sentence_of_one_error(key, value):
    with pytest.raises(SettingsError) as whole:
        load_stack("staging", values(key, value))
    with pytest.raises(SettingsError) as platform:
        load_settings("staging", values(key, value))
    with pytest.raises(ReleaseConfigError) as release:
        load_release_settings("staging", values(key, value))
    assert isinstance(release.value, SettingsError)   # the one error type, subclassed
    assert whole.value.problems == release.value.problems == platform.value.problems
    assert release.value.problems[0].startswith(f"meeshy:{key}")


def test_the_stack_file_names_a_shared_key_once():
    config = values("release", "r" * 65)
    config["meeshy:backup"] = {"retain": 0}
    stack = parse_stack("staging", config)
    assert stack.platform is None and stack.release is None
    assert list(stack.problems) == [
        "meeshy:release: expected a release label (letters, digits, '.', '_', '+', '-'; at most 64), "
        f"got {'r' * 65!r}",
        "meeshy:backup.retain must be between 1 and 1000, got 0"]


def test_a_file_with_problems_keeps_what_the_cross_stack_checks_read():
    config = values("release", "r" * 65)
    stack = parse_stack("staging", config)
    assert stack.platform is None and len(stack.problems) == 1
    assert stack.domain == config["meeshy:domain"]
    assert stack.ports.https == int(config["meeshy:ports"]["https"])
    assert stack.services.enabled("gateway") and not stack.services.enabled("agent")


def test_an_external_database_stack_is_read_by_its_release_section_only():
    config = {"meeshy:externalDatabase": {"uri": "mongodb://127.0.0.1:27017"}}
    stack = load_stack("ext", config)
    assert stack.external and stack.platform is None
    assert stack.release.external_uri == "mongodb://127.0.0.1:27017"
    assert parse_stack("ext", {**config, "meeshy:domian": "x"}).problems == (
        "meeshy:domian: unknown setting; known settings are listed in docs/configuration.md",)
    # The program (platform=True) reads the platform's sections whatever the stack says.
    assert any(p.startswith("meeshy:domain: missing")
               for p in parse_stack("ext", config, platform=True).problems)
