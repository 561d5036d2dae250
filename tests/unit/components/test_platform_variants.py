"""Settings the switch, the rehearsal and the takeover rely on, each changing exactly what it
should in the graph: maintenance, the database the services use, adoption, rehearsal options."""
import json

import pytest
import yaml

from config import naming
from config.settings import SettingsError
from testing.describe import describe, diff
from testing.mock_pulumi import EXAMPLE_SECRETS, run_stack_file


def changed_heads(a, b):
    """Resources (head lines) whose description differs between two runs."""
    lines = diff(describe(a), describe(b), "a", "b")
    return sorted({line[1:].split(" | ")[0] for line in lines
                    if line[:1] in "+-" and line[:3] not in ("---", "+++")})


def labels(res):
    return {label["label"]: label["value"] for label in res.inputs.get("labels") or []}


def test_maintenance_routes_every_public_host_and_touches_no_container():
    """The flip adds one command (the page's router in Traefik's file) and changes no container:
    a replaced container is where the flip's 502s came from."""
    off = run_stack_file("production")
    on = run_stack_file("production", {"meeshy:maintenance": True})
    assert changed_heads(off, on) == ["Command meeshy-production-maintenance-route"]
    assert labels(on.container("maintenance"))["traefik.enable"] == "false"
    route = next(r for r in on.resources if r.name == "meeshy-production-maintenance-route")
    routed = yaml.safe_load(route.inputs["environment"]["MEESHY_TRAEFIK_ROUTED"])["http"]
    router = routed["routers"]["meeshy-production-maintenance"]
    assert router["rule"] == ("Host(`meeshy.me`) || Host(`www.meeshy.me`) || Host(`gate.meeshy.me`)"
                              " || Host(`ml.meeshy.me`) || Host(`static.meeshy.me`)")
    assert router["priority"] > 1000 and router["tls"] == {"certResolver": "letsencrypt"}
    assert routed["services"]["meeshy-production-maintenance"]["loadBalancer"]["servers"] == [
        {"url": "http://meeshy-production-maintenance:80"}]
    assert routed["middlewares"] == {"compress": {"compress": {}}}
    assert "routers" not in yaml.safe_load(route.inputs["environment"]["MEESHY_TRAEFIK_BASE"])["http"]
    assert route.delete_before_replace and route.inputs["delete"]
    conf = {u["file"]: u["content"] for u in on.container("maintenance").inputs["uploads"]}
    assert "return 503;" in conf["/etc/nginx/conf.d/default.conf"]
    assert "error_page 503 /index.html;" in conf["/etc/nginx/conf.d/default.conf"]
    assert on.exports["maintenance"] is True


def test_switching_the_database_changes_only_the_services_urls():
    before = run_stack_file("production")
    after = run_stack_file("production", {"meeshy:database": {"name": "meeshy_v2"}})
    changed = changed_heads(before, after)
    assert [h for h in changed if "-release-" not in h] == [
        "Command meeshy-production-gateway-clear", "Command meeshy-production-gateway-handover",
        "Command meeshy-production-translator-clear", "Command meeshy-production-translator-handover",
        "Container meeshy-production-gateway", "Container meeshy-production-mongo-ui",
        "Container meeshy-production-translator"]
    # The release steps follow the live database: backup and gate on meeshy_v2, and no
    # migration once the services use its target.
    assert not [r for r in after.resources if r.name == "meeshy-production-release-migration-run"]
    env = dict(e.split("=", 1) for e in after.container("gateway").inputs["envs"])
    assert env["DATABASE_URL"] == "mongodb://meeshy-production-database:27017/meeshy_v2?replicaSet=rs0"
    assert after.exports["databaseName"] == "meeshy_v2"
    assert after.container("database").inputs == before.container("database").inputs


def test_engines_before_docker_25_get_health_checks_without_a_start_interval():
    def start_intervals(run):
        return {r.name: (r.inputs.get("healthcheck") or {}).get("startInterval")
                for r in run.resources if r.type == "docker:index/container:Container"}
    default = start_intervals(run_stack_file("staging"))
    old_engine = start_intervals(run_stack_file("staging", {"meeshy:healthStartInterval": False}))
    assert set(default.values()) == {"2s"}
    assert set(old_engine) == set(default) and set(old_engine.values()) == {None}


def test_rehearsal_database_without_replica_set():
    run = run_stack_file("rehearsal", {
        "meeshy:rehearsal": True, "meeshy:pullImages": False, "meeshy:ports": {"http": 9080, "https": 9443},
        "meeshy:database": {"replicaSet": {"enabled": False}, "healthcheck": ["ferretdb-ping"]}},
        file="staging")
    db = run.container("database")
    assert "command" not in db.inputs or not db.inputs["command"]
    assert db.inputs["healthcheck"]["tests"] == ["CMD", "ferretdb-ping"]
    assert not [r for r in run.resources if r.name.endswith("-rs-init")]
    assert not run.of_type(":RemoteImage")
    assert run.exports["databaseUrl"] == "mongodb://meeshy-rehearsal-database:27017/meeshy"
    assert run.exports["replicaSetMember"] == "" and run.exports["rehearsal"] is True


def test_remote_docker_host_is_used_by_the_provider_and_the_init():
    ssh = {"identityFile": "/keys/deploy", "knownHosts": "/keys/known_hosts"}
    run = run_stack_file("production", {"meeshy:dockerHost": "ssh://deploy@meeshy.me",
                                        "meeshy:dockerSsh": ssh})
    provider = run.named("meeshy-production-docker").inputs
    assert provider["host"] == "ssh://deploy@meeshy.me"
    opts = json.loads(provider["sshOpts"])   # provider inputs reach the engine as JSON text
    assert opts[:2] == ["-i", "/keys/deploy"] and "UserKnownHostsFile=/keys/known_hosts" in opts
    assert "StrictHostKeyChecking=yes" in opts
    init = run.named("meeshy-production-rs-init", "Command").inputs["create"]
    assert init.startswith("docker --host ssh://deploy@meeshy.me exec meeshy-production-database mongosh")
    # The engine's socket on the remote host, not a local path, is what Traefik mounts.
    mounts = {m["containerPath"]: m.get("hostPath") for m in run.container("traefik").inputs["volumes"]}
    assert mounts["/var/run/docker.sock"] == "/var/run/docker.sock"


def test_adopted_volumes_and_network_are_imported_protected_and_retained():
    adopt = {"volumes": {"database-data": "meeshy_database_data", "database-config": "meeshy_database_config",
                         "gateway-uploads": "meeshy_gateway_uploads"},
             "networks": {"main": {"name": "meeshy-network", "id": "4f2c0ffee"}}}
    run = run_stack_file("production", {"meeshy:adopt": adopt})
    for purpose, existing in adopt["volumes"].items():
        v = run.named(f"meeshy-production-{purpose}", ":Volume")
        assert v.import_id == existing and v.inputs["name"] == existing
        assert v.protect and v.retain_on_delete
        assert set(v.ignore_changes) >= {"labels", "driverOpts"}
    net = run.named("meeshy-production", ":Network")
    assert (net.import_id, net.inputs["name"], net.protect, net.retain_on_delete) == (
        "4f2c0ffee", "meeshy-network", True, True)
    # Nothing creates a volume meant to be adopted: no other volume carries those names.
    created = [v.inputs["name"] for v in run.of_type(":Volume") if not v.import_id]
    assert not set(created) & set(adopt["volumes"].values())
    assert {m["volumeName"] for m in run.container("database").inputs["volumes"]} == {
        "meeshy_database_data", "meeshy_database_config"}
    assert run.container("gateway").inputs["networksAdvanced"] == [
        {"name": "meeshy-network", "aliases": [naming.fixed_container_name(
            run.container("gateway").inputs["name"])]}]
    assert run.exports["volumeNames"]["database-data"] == "meeshy_database_data"
    # Volumes not adopted are still created under the stack's own names.
    assert run.named("meeshy-production-redis-data", ":Volume").import_id == ""


def test_staging_adopting_does_not_depend_on_protect_data():
    run = run_stack_file("staging", {"meeshy:adopt": {"volumes": {"redis-data": "old_redis"}}})
    v = run.named("meeshy-staging-redis-data", ":Volume")
    assert v.protect and v.retain_on_delete and v.import_id == "old_redis"
    assert not run.named("meeshy-staging-database-data", ":Volume").protect


def test_admin_uis_off_declares_no_admin_container():
    images = {k: v for k, v in run_stack_file("staging").exports["images"].items()
              if k not in ("mongoUi", "redisUi", "maintenance")}
    run = run_stack_file("staging", {"meeshy:adminUis": False, "meeshy:images": images},
                         secrets={k: v for k, v in EXAMPLE_SECRETS.items() if k != "meeshy:adminUiAuth"})
    assert not any("-ui" in c.inputs["name"] for c in run.of_type(":Container"))
    assert "mongoUi" not in run.exports["publicUrls"]


def test_bad_config_fails_before_any_resource_is_registered():
    registered = []
    with pytest.raises(SettingsError) as err:
        run_stack_file("production", {"meeshy:images": {"gateway": "isopen/meeshy-gateway:latest"},
                                      "meeshy:ports": {"http": 80, "https": 443, "redis": 6379}},
                       sink=registered)
    assert registered == []
    assert "meeshy:images.gateway: expected an image pinned to a version tag or a digest, got " \
           "'isopen/meeshy-gateway:latest'" in str(err.value)
    assert "meeshy:ports.redis: production never publishes" in str(err.value)


def test_missing_secret_fails_with_the_command_to_set_it():
    secrets = {k: v for k, v in EXAMPLE_SECRETS.items() if k != "meeshy:jwtSecret"}
    with pytest.raises(SettingsError, match=r"meeshy:jwtSecret: missing secret; set it with "
                                            r"`pulumi config set --secret meeshy:jwtSecret \.\.\.`"):
        run_stack_file("staging", secrets=secrets)


@pytest.mark.parametrize("written, normalized", [
    ("5s", "5s"), ("30s", "30s"), ("60s", "1m0s"), ("120s", "2m0s"), ("90s", "1m30s"),
    ("2m", "2m0s"), ("3600s", "1h0m0s"), ("1h30m", "1h30m0s")])
def test_health_durations_are_written_as_the_engine_reports_them(written, normalized):
    from components.platform.containers import go_duration
    assert go_duration(written) == normalized


def test_a_duration_in_other_units_is_refused_naming_it():
    from components.platform.containers import go_duration
    with pytest.raises(ValueError, match="duration '1.5s'"):
        go_duration("1.5s")


def test_every_declared_health_duration_is_already_normalized():
    from components.platform.containers import go_duration
    run = run_stack_file("production")
    for r in run.resources:
        check = r.inputs.get("healthcheck") if r.type == "docker:index/container:Container" else None
        for key in ("interval", "timeout", "startPeriod", "startInterval"):
            if check and check.get(key):
                assert go_duration(check[key]) == check[key], (r.name, key)


def documentdb_run(password: str):
    """A rehearsal stack on DocumentDB (staging's file: a migration is declared)."""
    return run_stack_file("rehearsal", {
        "meeshy:rehearsal": True, "meeshy:pullImages": False,
        "meeshy:ports": {"http": 9080, "https": 9443, "database": 27099},
        "meeshy:database": {"server": "documentdb", "replicaSet": {"enabled": False}}},
        secrets={**EXAMPLE_SECRETS, "meeshy:databasePassword": password}, file="staging")


def test_a_documentdb_database_gets_its_login_and_every_url_carries_it_as_a_secret():
    password = "documentdb-example-pw"
    run = documentdb_run(password)
    db = run.container("database")
    assert f"DOCUMENTDB_PASSWORD={password}" in db.inputs["envs"]
    assert "DOCUMENTDB_USERNAME=meeshy" in db.inputs["envs"]
    login = f"meeshy:{password}@"
    options = "authSource=admin&authMechanism=SCRAM-SHA-256"
    assert run.exports["databaseUrl"] == (f"mongodb://{login}meeshy-rehearsal-database:27017/"
                                          f"meeshy?{options}")
    assert "databaseUrl" in run.secret_exports
    gateway = run.container("gateway")
    assert f"DATABASE_URL={run.exports['databaseUrl']}" in gateway.inputs["envs"]


def test_every_release_step_of_a_documentdb_stack_logs_in_through_its_secret_environment():
    password = "documentdb-example-pw"
    run = documentdb_run(password)
    steps = [r for r in run.of_type("command:local:Command")
             if r.name.endswith(("-backup-dump", "-migration-run", "-gate-check"))]
    assert {r.name.rsplit("-", 2)[-2] for r in steps} >= {"backup", "migration", "gate"}, \
        [r.name for r in steps]
    for step in steps:
        assert password not in json.dumps(step.inputs["create"]), step.name
        environment = json.dumps(step.inputs.get("environment"))
        assert f"meeshy:{password}@" in environment, step.name
        assert "environment" in step.secret_props, step.name
