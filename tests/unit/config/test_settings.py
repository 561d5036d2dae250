"""Settings: parsed once, typed, and every class of mistake named by its full key."""
import pytest

from config.settings import MappingSource, SettingsError, load_settings
from config.settings_sections import Ports
from testing.mock_pulumi import EXAMPLE_SECRETS, stack_file_config


def config(stack="staging", **overrides):
    values = {**stack_file_config(stack), **EXAMPLE_SECRETS}
    for key, value in overrides.items():
        key = "meeshy:" + key
        if value is None:
            values.pop(key, None)
        else:
            values[key] = value
    return values


def problems(stack="staging", file="", **overrides):
    with pytest.raises(SettingsError) as err:
        load_settings(stack, config(file or stack, **overrides))
    return err.value.problems, str(err.value)


def test_real_stack_files_parse():
    staging = load_settings("staging", config("staging"))
    production = load_settings("production", config("production"))
    assert staging.ports == Ports(8080, 8443, 27018, 6380)
    assert production.ports == Ports(80, 443)
    assert production.images.gateway == "isopen/meeshy-gateway:1.0.0"
    assert production.images.maintenance == production.images.static
    assert production.protect_data and not staging.protect_data
    assert production.database.name == "meeshy" and production.database.replica_set.enabled
    assert production.docker_host == "unix:///var/run/docker.sock"
    assert production.backup_dir == "/var/backups/meeshy"
    assert production.release == "1.0.0" and not production.maintenance
    assert "example-jwt" not in repr(production)  # secrets never in repr


def test_defaults_for_a_third_stack():
    s = load_settings("rehearsal", config("staging", ports={"http": 9080, "https": 9443}))
    assert s.names.hosts_of("gateway") == ("gate.rehearsal.meeshy.me",)
    assert s.backup_dir == "/var/backups/meeshy"


def test_all_problems_are_reported_at_once_with_their_key():
    found, message = problems(domain="Not A Domain", images={"gateway": "isopen/meeshy-gateway:latest"},
                              jwtSecret=None)
    assert "meeshy:domain: expected a lowercase DNS name such as 'meeshy.me', got 'Not A Domain'" in found
    assert ("meeshy:images.gateway: expected an image pinned to a version tag or a digest, got "
            "'isopen/meeshy-gateway:latest' (tag 'latest' is not a version and moves over time)") in found
    assert any(p.startswith("meeshy:images.traefik: missing") for p in found)
    assert any(p.startswith("meeshy:jwtSecret: missing secret") for p in found)
    assert message.startswith("invalid configuration for stack 'staging' (")


@pytest.mark.parametrize("ref, why", [
    ("isopen/meeshy-gateway", "no tag"),
    ("nginx:alpine", "not a version"),
    ("nginx:stable", "not a version"),
    ("Isopen/Gateway:1.0", "repository part is malformed"),
    ("isopen/gateway@sha256:abc", "digest must be sha256"),
])
def test_unpinned_images(ref, why):
    found, _ = problems(images={**config()["meeshy:images"], "web": ref})
    assert len(found) == 1 and found[0].startswith("meeshy:images.web:") and why in found[0]


@pytest.mark.parametrize("ref", ["registry.local:5000/meeshy/gateway:2.3.1",
                                 "isopen/meeshy-gateway@sha256:" + "a" * 64, "traefik:v3.6.2"])
def test_pinned_images_accepted(ref):
    s = load_settings("staging", config(images={**config()["meeshy:images"], "gateway": ref}))
    assert s.images.gateway == ref


def test_ports():
    found, _ = problems(ports={"http": 8080, "https": 8080, "redis": 70000, "extra": 1})
    assert "meeshy:ports.https: port 8080 is already used by meeshy:ports.http" in found
    assert "meeshy:ports.redis: expected a TCP port number between 1 and 65535, got 70000" in found
    assert any(p.startswith("meeshy:ports.extra: unknown setting") for p in found)
    found, _ = problems(ports={"http": 80})
    assert any(p.startswith("meeshy:ports.https: missing") for p in found)


def test_production_never_publishes_database_or_redis():
    found, _ = problems("production", ports={"http": 80, "https": 443, "database": 27017})
    assert found == ["meeshy:ports.database: production never publishes its database or Redis port; "
                     "remove this setting"]


def test_production_data_stays_protected_unless_rehearsal():
    found, _ = problems("production", protectData=False)
    assert found[0].startswith("meeshy:protectData: must be true on production")
    assert not load_settings("production", config("production", protectData=False, rehearsal=True)) \
    .protect_data


def test_replica_set_off_is_rehearsal_only():
    db = {"name": "meeshy", "replicaSet": {"enabled": False}}
    found, _ = problems(database=db)
    assert found[0].startswith("meeshy:database.replicaSet.enabled: false is a rehearsal-only setting")
    s = load_settings("staging", config(database=db, rehearsal=True))
    assert not s.database.replica_set.enabled


def test_database_section():
    found, _ = problems(database={"name": "bad name", "replicaSet": "rs0", "command": "mongod"})
    assert any(p.startswith("meeshy:database.name: expected a MongoDB database name") for p in found)
    assert any(p.startswith("meeshy:database.replicaSet: expected a map") for p in found)
    assert any(p.startswith("meeshy:database.command: expected a non-empty list") for p in found)
    s = load_settings("staging", config(database='{"name": "meeshy_v2"}'))  # JSON text, as the engine sends
    assert s.database.name == "meeshy_v2"


@pytest.mark.parametrize("host, ok", [
    ("unix:///var/run/docker.sock", True), ("unix:///run/user/1000/docker.sock", True),
    ("ssh://deploy@meeshy.me", True), ("ssh://deploy@10.0.0.5:2222", True),
    ("tcp://10.0.0.5:2375", False), ("ssh://meeshy.me", False), ("/var/run/docker.sock", False),
])
def test_docker_host(host, ok):
    ssh = SSH if host.startswith("ssh://") else None
    if ok:
        assert load_settings("staging", config(dockerHost=host, dockerSsh=ssh)).docker_host == host
    else:
        found, _ = problems(dockerHost=host)
        assert found[0].startswith("meeshy:dockerHost: expected the local engine socket")


SSH = {"identityFile": "/home/ops/.ssh/deploy", "knownHosts": "/home/ops/.ssh/known_hosts"}


def test_remote_docker_host_needs_a_key_and_a_pinned_host_key():
    s = load_settings("staging", config(dockerHost="ssh://deploy@10.0.0.5:2222", dockerSsh=SSH))
    assert s.docker_ssh.options == [
        "-i", "/home/ops/.ssh/deploy", "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
        "-o", "UserKnownHostsFile=/home/ops/.ssh/known_hosts", "-o", "StrictHostKeyChecking=yes",
        "-o", "ConnectTimeout=10"]
    found, _ = problems(dockerHost="ssh://deploy@meeshy.me")
    assert found == ["meeshy:dockerSsh: required with an ssh:// meeshy:dockerHost: a mapping with "
                     "identityFile (the private key) and knownHosts (the file pinning the server's "
                     "host key)"]
    found, _ = problems(dockerHost="ssh://deploy@meeshy.me",
                        dockerSsh={"identityFile": "key", "knownHosts": "/k h", "strict": False})
    assert found == ["meeshy:dockerSsh.strict: unknown setting; expected one of identityFile, knownHosts",
                     "meeshy:dockerSsh.identityFile: expected an absolute host path without '..', "
                     "got 'key'",
                     "meeshy:dockerSsh.knownHosts: expected a path without spaces, got '/k h'"]
    found, _ = problems(dockerSsh=SSH)
    assert found == ["meeshy:dockerSsh: set only with an ssh:// meeshy:dockerHost (the local "
                     "socket needs no key)"]


def test_a_rehearsal_stack_may_run_on_a_server_reached_over_ssh():
    s = load_settings("staging", config(rehearsal=True, dockerHost="ssh://deploy@10.0.0.5",
                                        dockerSsh=SSH))
    assert s.rehearsal and s.docker_ssh.identity_file == "/home/ops/.ssh/deploy"


def test_flags_and_labels():
    found, _ = problems(adminUis="yes", release="1.0 final", backupDir="backups/x")
    assert "meeshy:adminUis: expected true or false, got 'yes'" in found
    assert any(p.startswith("meeshy:release: expected a release label") for p in found)
    assert any(p.startswith("meeshy:backupDir: expected an absolute host path") for p in found)
    assert load_settings("staging", config(maintenance="true")).maintenance is True


def test_every_true_false_key_refuses_a_malformed_value_naming_it():
    found, _ = problems(pullImages="sometimes", healthStartInterval="no thanks")
    assert "meeshy:pullImages: expected true or false, got 'sometimes'" in found
    assert "meeshy:healthStartInterval: expected true or false, got 'no thanks'" in found


def test_secrets_are_checked_without_being_echoed():
    found, message = problems(dashboardAuth="ops:plaintext-password", jwtSecret="short-secret-value")
    assert any(p.startswith("meeshy:dashboardAuth: expected comma-separated htpasswd entries") for p in found)
    assert "meeshy:jwtSecret: expected at least 32 characters (value not shown)" in found
    assert "plaintext-password" not in message and "short-secret-value" not in message


def test_admin_ui_auth_required_only_with_admin_uis():
    found, _ = problems(adminUiAuth=None)
    assert found[0].startswith("meeshy:adminUiAuth: missing secret")
    s = load_settings("staging", config(adminUis=False, adminUiAuth=None,
                                        images={k: v for k, v in config()["meeshy:images"].items()
                                                if k not in ("mongoUi", "redisUi")}))
    assert s.secrets.admin_ui_auth is None and s.images.mongo_ui is None


def test_secrets_stored_in_plain_text_are_refused():
    source = MappingSource(config(), secret_keys={"meeshy:adminPassword", "meeshy:meeshyPassword",
                                                  "meeshy:atabethPassword", "meeshy:dashboardAuth",
                                                  "meeshy:adminUiAuth"})
    with pytest.raises(SettingsError) as err:
        load_settings("staging", source)
    assert err.value.problems == ["meeshy:jwtSecret: is stored in plain text; set it again with "
                                  "`pulumi config set --secret meeshy:jwtSecret ...`"]


def test_adopt_section():
    s = load_settings("production", config("production", adopt={
        "volumes": {"database-data": "meeshy_database_data"},
        "networks": {"main": {"name": "meeshy-network", "id": "abc123"}}}))
    assert dict(s.adopt.volumes) == {"database-data": "meeshy_database_data"}
    assert s.adopt.networks["main"].import_id == "abc123"
    found, _ = problems("production", adopt={"volumes": {"db": "x", "redis-data": ""},
                                             "networks": {"other": "n"}})
    assert any(p.startswith("meeshy:adopt.volumes.db: unknown volume; expected one of database-data")
               for p in found)
    assert any(p.startswith("meeshy:adopt.volumes.redis-data: expected the name of an existing Docker volume")
               for p in found)
    assert any(p.startswith("meeshy:adopt.networks.other: unknown network") for p in found)


def test_unknown_keys_and_bad_stack_names():
    found, _ = problems(adminUI=True)
    assert found == ["meeshy:adminUI: unknown setting; known settings are listed in docs/configuration.md"]
    found, _ = problems("Staging_2", file="staging")
    assert found[0].startswith("stack: stack name 'Staging_2' must be a lowercase DNS label")


def test_keys_of_the_release_section_are_not_unknown():
    s = load_settings("staging", config(migration={"sourceDatabase": "meeshy", "targetDatabase": "meeshy_v2"},
                                        healthGate={"deadlineSeconds": 60}))
    assert s.stack == "staging"


def test_database_server_is_one_of_the_known_and_rehearsal_only_unless_mongo():
    assert load_settings("production", config("production")).database.server == "mongo"
    found, _ = problems(database={"server": "postgres"})
    assert found == ["meeshy:database.server: expected one of mongo, ferretdb, documentdb, got "
                     "'postgres'"]
    found, _ = problems(database={"server": "ferretdb", "replicaSet": {"enabled": False}},
                        rehearsal=False)
    assert any(p.startswith("meeshy:database.server: ferretdb is a rehearsal-only server") for p in found)


def test_documentdb_needs_a_url_safe_password_and_no_replica_set():
    db = {"server": "documentdb", "replicaSet": {"enabled": False}}
    found, _ = problems(database=db, rehearsal=True)
    assert any(p.startswith("meeshy:databasePassword: missing secret") for p in found)
    found, message = problems(database=db, rehearsal=True, databasePassword="has/slash@and:colon")
    assert found == ["meeshy:databasePassword: expected letters, digits, '.', '_', '~' or '-' "
                     "only (value not shown)"]
    assert "slash" not in message
    found, _ = problems(database={"server": "documentdb"}, rehearsal=True,
                        databasePassword="a-good-password")
    assert any(p.startswith("meeshy:database.replicaSet.enabled: documentdb has no replica set")
               for p in found)
    s = load_settings("staging", config(database=db, rehearsal=True, databasePassword="a-good-pw"))
    assert s.database.needs_login and s.secrets.database_password.value == "a-good-pw"
    assert "a-good-pw" not in repr(s)


def test_acme_enabled_is_true_or_false_and_named_when_not():
    assert load_settings("staging", config(acme={"enabled": False})).acme.enabled is False
    assert load_settings("staging", config()).acme.enabled is True
    found, message = problems(acme={"enabled": "no"})
    assert found == ["meeshy:acme.enabled: expected true or false, got 'no'"] and "'no'" in message
