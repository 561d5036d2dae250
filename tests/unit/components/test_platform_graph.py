"""The real program, run for staging and production from their real stack files under Pulumi
mocks: every service with its image, healthcheck, restart policy, labels, volumes and
environment; the replica-set init host; secrets kept secret; the production safety options."""
import re
import shlex

import pytest

from commands import services as commands
from components.platform import handover
from config import naming
from testing.mock_pulumi import EXAMPLE_SECRETS, run_stack_file, stack_file_config

STACKS = ("staging", "production")
ROLLING = ("translator", "gateway", "web", "static")
SERVICES = ("traefik", "database", "redis", "translator", "gateway", "web", "static",
            "maintenance", "mongo-ui", "redis-ui")


@pytest.fixture(scope="module", params=STACKS)
def run(request):
    return run_stack_file(request.param)


def labels(res):
    return {label["label"]: label["value"] for label in res.inputs.get("labels") or []}


def env(res):
    return dict(e.split("=", 1) for e in res.inputs.get("envs") or [])


def mounts(res):
    return {m["containerPath"]: (m.get("volumeName") or m.get("hostPath"), m.get("readOnly", False))
            for m in res.inputs.get("volumes") or []}


def image_of(stack, key):
    images = stack_file_config(stack)["meeshy:images"]
    return images.get(key) or images["static"]  # maintenance defaults to the static nginx


def test_every_service_runs_its_pinned_image_with_restart_and_safe_replacement(run):
    images = {"traefik": "traefik", "database": "mongo", "redis": "redis", "translator": "translator",
              "gateway": "gateway", "web": "web", "static": "static", "maintenance": "maintenance",
              "mongo-ui": "mongoUi", "redis-ui": "redisUi"}
    containers = run.of_type(":Container")
    assert sorted(naming.fixed_container_name(c.inputs["name"]) for c in containers) == sorted(
        f"meeshy-{run.stack}-{s}" for s in SERVICES)
    provider = run.named(f"meeshy-{run.stack}-docker").urn
    for service in SERVICES:
        c = run.container(service)
        assert c.inputs["image"] == image_of(run.stack, images[service])
        assert c.inputs["restart"] == "unless-stopped"
        # The routed application services are replaced create-before-delete, under a name of
        # their own, their fixed name kept as their alias; every other container keeps its name.
        fixed = f"meeshy-{run.stack}-{service}"
        rolling = service in ROLLING
        assert c.delete_before_replace is not rolling
        assert c.provider.startswith(provider + "::")
        assert c.inputs["networksAdvanced"] == [
            {"name": f"meeshy-{run.stack}", **({"aliases": [fixed]} if rolling else {})}]
        assert re.fullmatch(rf"{fixed}-[0-9a-f]{{8}}" if rolling else fixed, c.inputs["name"])
        assert not (rolling and c.inputs.get("wait"))   # the release gate holds the old one
        assert labels(c)["meeshy.stack"] == run.stack and labels(c)["meeshy.service"] == service
        # The pulled image is registered before the container that runs it.
        pulled = run.named(f"meeshy-{run.stack}-image-{images[service]}", ":RemoteImage")
        assert pulled.inputs["name"] == c.inputs["image"] and pulled.urn in c.dependencies


def test_healthchecks(run):
    expected = {
        "gateway": commands.service_probe("gateway"), "translator": commands.service_probe("translator"),
        "web": commands.service_probe("web"), "static": commands.service_probe("static"),
        "database": commands.mongo_ping(), "redis": commands.redis_ping(),
        "traefik": ["traefik", "healthcheck", "--ping"],
    }
    for service, probe in expected.items():
        check = run.container(service).inputs["healthcheck"]
        if service in ROLLING:   # through sh: failing once drained (handover.py), probed often
            assert check["tests"] == handover.drain_test(probe), service
            assert (check["interval"], check["retries"]) == ("2s", 2), service
        else:
            assert check["tests"] == ["CMD", *probe], service
    assert run.container("gateway").inputs["healthcheck"]["tests"][-1] == "http://localhost:3000/health"
    assert run.container("translator").inputs["healthcheck"]["tests"][-1] == "http://localhost:8000/live"
    assert run.container("web").inputs["healthcheck"]["tests"][-1] == "http://localhost:3100/api/health"
    assert run.container("static").inputs["healthcheck"]["tests"][-1] == "http://localhost:80/health"
    for service in ("database", "redis"):  # waited on by the update, so probed often
        c = run.container(service)
        assert c.inputs["wait"] is True and c.inputs["healthcheck"]["interval"] == "5s"


def test_routers_send_each_host_to_its_service(run):
    site = "meeshy.me" if run.stack == "production" else f"{run.stack}.meeshy.me"
    r = f"traefik.http.routers.meeshy-{run.stack}"
    expected = {"gateway": (f"Host(`gate.{site}`)", "3000"), "translator": (f"Host(`ml.{site}`)", "8000"),
                "web": (f"Host(`{site}`) || Host(`www.{site}`)", "3100"),
                "static": (f"Host(`static.{site}`)", "80"),
                "mongo-ui": (f"Host(`mongo.{site}`)", "3000"), "redis-ui": (f"Host(`redis.{site}`)", "7843")}
    for service, (rule, port) in expected.items():
        lab = labels(run.container(service))
        assert lab["traefik.enable"] == "true"
        assert lab[f"{r}-{service}.rule"] == rule
        assert lab[f"{r}-{service}.entrypoints"] == "websecure"
        assert lab[f"{r}-{service}.tls.certresolver"] == "letsencrypt"
        assert lab[f"traefik.http.services.meeshy-{run.stack}-{service}.loadbalancer.server.port"] == port
    dash = labels(run.container("traefik"))
    assert dash[f"{r}-dashboard.rule"] == f"Host(`traefik.{site}`)"
    assert dash[f"{r}-dashboard.service"] == "api@internal"
    assert dash[f"{r}-dashboard.middlewares"] == f"meeshy-{run.stack}-dashboard-auth"
    m = f"traefik.http.middlewares.meeshy-{run.stack}"
    assert dash[f"{m}-dashboard-auth.basicauth.usersfile"] == "/etc/traefik/auth/dashboard.htpasswd"
    for service in ("mongo-ui", "redis-ui"):
        ui = labels(run.container(service))
        assert ui[f"{r}-{service}.middlewares"] == f"meeshy-{run.stack}-{service}-auth"
        assert ui[f"{m}-{service}-auth.basicauth.usersfile"] == "/etc/traefik/auth/admin-ui.htpasswd"
    assert labels(run.container("maintenance")) == {"traefik.enable": "false", "meeshy.stack": run.stack,
                                                    "meeshy.service": "maintenance"}


def test_traefik_is_confined_to_its_stack(run):
    t = run.container("traefik")
    cmd = t.inputs["command"]
    assert f"--providers.docker.network=meeshy-{run.stack}" in cmd
    assert f"--providers.docker.constraints=Label(`meeshy.stack`,`{run.stack}`)" in cmd
    assert "--providers.docker.exposedbydefault=false" in cmd
    assert "--certificatesresolvers.letsencrypt.acme.tlschallenge=true" in cmd
    assert mounts(t) == {"/letsencrypt": (f"meeshy-{run.stack}-traefik-certs", False),
                         "/var/run/docker.sock": ("/var/run/docker.sock", True)}
    ports = stack_file_config(run.stack)["meeshy:ports"]
    assert sorted((int(p["internal"]), int(p["external"])) for p in t.inputs["ports"]) == [
        (80, ports["http"]), (443, ports["https"])]
    redirect = "websecure" if ports["https"] == 443 else f":{ports['https']}"
    assert f"--entrypoints.web.http.redirections.entrypoint.to={redirect}" in cmd


def test_volumes(run):
    v = lambda p: f"meeshy-{run.stack}-{p}"  # noqa: E731
    assert mounts(run.container("database")) == {"/data/db": (v("database-data"), False),
                                                 "/data/configdb": (v("database-config"), False)}
    assert mounts(run.container("redis")) == {"/data": (v("redis-data"), False)}
    firebase = ({"/app/secrets/firebase-admin-sdk.json":
                 ("/opt/meeshy/secrets/firebase-admin-sdk.json", True)}
                if run.stack == "production" else {})   # production's stack file mounts it
    assert mounts(run.container("gateway")) == {"/app/uploads": (v("gateway-uploads"), False),
                                                "/app/sounds": (v("gateway-sounds"), False), **firebase}
    assert mounts(run.container("web")) == {"/app/public/u": (v("frontend-uploads"), False)}
    assert mounts(run.container("static")) == {"/usr/share/nginx/html/u": (v("frontend-uploads"), True),
                                               "/usr/share/nginx/html/uploads": (v("gateway-uploads"), True)}
    assert mounts(run.container("translator")) == {"/workspace/models": (v("models"), False)}
    protected = run.stack == "production"
    for volume in run.of_type(":Volume"):
        purpose = volume.name[len(f"meeshy-{run.stack}-"):]
        data = purpose not in ("models", "redis-ui-data")
        assert volume.inputs["name"] == volume.name
        assert (volume.protect, volume.retain_on_delete) == ((protected and data),) * 2, volume.name


def test_service_environment_wires_the_stack(run):
    p = f"meeshy-{run.stack}"
    db = f"mongodb://{p}-database:27017/meeshy?replicaSet=rs0"
    gw, tr, web = env(run.container("gateway")), env(run.container("translator")), env(run.container("web"))
    assert gw["DATABASE_URL"] == tr["DATABASE_URL"] == db
    assert gw["REDIS_URL"] == tr["REDIS_URL"] == f"redis://{p}-redis:6379"
    assert gw["TRANSLATOR_URL"] == f"http://{p}-translator:8000"
    assert (gw["ZMQ_TRANSLATOR_HOST"], gw["ZMQ_TRANSLATOR_PUSH_PORT"], gw["ZMQ_TRANSLATOR_SUB_PORT"]) == (
        f"{p}-translator", "5555", "5558")
    assert (tr["ZMQ_PUSH_PORT"], tr["ZMQ_PUB_PORT"]) == ("5555", "5558")
    assert gw["FORCE_DB_RESET"] == "false"
    site = "meeshy.me" if run.stack == "production" else f"{run.stack}.meeshy.me"
    assert gw["CORS_ORIGINS"] == f"https://{site},https://www.{site},https://gate.{site}"
    assert web["INTERNAL_BACKEND_URL"] == f"http://{p}-gateway:3000"
    assert web["NEXT_PUBLIC_API_URL"] == f"https://gate.{site}"
    assert web["NEXT_PUBLIC_WS_URL"] == f"wss://gate.{site}"


def test_database_command_and_replica_set_init(run):
    p = f"meeshy-{run.stack}"
    db = run.container("database")
    assert db.inputs["command"] == ["mongod", "--replSet", "rs0", "--bind_ip_all"]
    assert db.inputs["wait"] is True
    init = run.named(f"{p}-rs-init", "Command")
    assert shlex.split(init.inputs["create"]) == commands.docker_exec(
        f"{p}-database", commands.replica_set_init("rs0", f"{p}-database:27017"),
        docker_host="unix:///var/run/docker.sock")
    assert init.inputs["triggers"] == [f"{p}-database:27017", "rs0"]
    assert db.urn in init.dependencies
    for service in ("translator", "gateway"):
        assert init.urn in run.container(service).dependencies  # services start on a primary
    hosts = set(re.findall(r"[a-z0-9-]+:27017", init.inputs["create"]))
    assert hosts == {f"{p}-database:27017"}


def test_data_ports(run):
    published = {c.inputs["name"]: sorted((p.get("ip"), int(p["external"]))
                              for p in c.inputs.get("ports") or [])
                 for c in run.of_type(":Container") if c.inputs.get("ports")}
    p = f"meeshy-{run.stack}"
    if run.stack == "production":
        assert set(published) == {f"{p}-traefik"}
    else:
        assert published[f"{p}-database"] == [("127.0.0.1", 27018)]
        assert published[f"{p}-redis"] == [("127.0.0.1", 6380)]


def test_secrets_stay_secret(run):
    """Every input carrying a secret value arrived at the engine marked secret; no output has one."""
    secret_values = set(EXAMPLE_SECRETS.values())
    carriers = set()
    for res in run.resources:
        for prop, value in res.inputs.items():
            if any(s in repr(value) for s in secret_values):
                carriers.add((res.name, prop))
                assert prop in res.secret_props, f"{res.name}.{prop} holds a secret in plain text"
    p = f"meeshy-{run.stack}"
    # Basic-auth users reach Traefik as read-only files, never as labels docker inspect shows.
    assert carriers == {(f"{p}-gateway", "envs"), (f"{p}-traefik", "uploads")}
    assert not any(s in repr(run.exports) for s in secret_values)


def test_basic_auth_users_are_files_inside_traefik(run):
    uploads = {u["file"]: u for u in run.container("traefik").inputs["uploads"]}
    expected = {"/etc/traefik/auth/dashboard.htpasswd": EXAMPLE_SECRETS["meeshy:dashboardAuth"],
                "/etc/traefik/auth/admin-ui.htpasswd": EXAMPLE_SECRETS["meeshy:adminUiAuth"]}
    for path, entries in expected.items():
        assert uploads[path]["content"] == "".join(f"{e}\n" for e in entries.split(","))
        assert uploads[path]["permissions"] == "0444"


def test_components_and_parents(run):
    by_urn = {r.urn: r for r in run.resources}
    tokens = {r.type for r in run.resources if not r.custom}
    assert tokens == {"meeshy:platform:MeeshyPlatform", "meeshy:traefik:Traefik",
                      "meeshy:mongo:MongoReplicaSet",
                      "meeshy:redis:Redis", "meeshy:app:AppService", "meeshy:maintenance:Maintenance",
                      "meeshy:admin:AdminUis",
                      # the release steps the stack files declare (test_platform_release_wiring.py)
                      "meeshy:release:Release", "meeshy:backup:MongoBackup",
                      "meeshy:migration:DataMigration", "meeshy:health:HealthGate"}
    for res in run.resources:
        if res.type == "meeshy:platform:MeeshyPlatform":
            continue
        assert by_urn[res.parent].type.startswith("meeshy:"), res.name  # parent=self everywhere


def test_outputs(run):
    p = f"meeshy-{run.stack}"
    out = run.exports
    assert out["networkName"] == p and out["databaseContainer"] == f"{p}-database"
    assert out["databaseUrl"] == f"mongodb://{p}-database:27017/meeshy?replicaSet=rs0"
    assert out["replicaSetMember"] == f"{p}-database:27017" and out["databaseName"] == "meeshy"
    assert {s: naming.fixed_container_name(n) for s, n in out["containerNames"].items()} == {
        s: f"{p}-{s}" for s in SERVICES}
    assert out["containerNames"]["gateway"] != f"{p}-gateway"
    assert out["volumeNames"]["database-data"] == f"{p}-database-data"
    assert out["releaseLabel"] == stack_file_config(run.stack)["meeshy:release"]
    assert out["backupDir"] == "/var/backups/meeshy" and out["maintenance"] is False
    site = "meeshy.me" if run.stack == "production" else f"{run.stack}.meeshy.me"
    assert out["publicUrls"]["web"] == f"https://{site}" and out["publicUrls"]["gateway"] == f"https://gate.{site}"


def test_writes_close_before_any_data_step_of_the_update_turning_maintenance_on(run):
    """The switch turns maintenance on in the update of its first data step under it
    (ops/switch/plan.py): the backup, and through it the migration and the gate, wait for the
    page's route, which waits for nothing of the release (the gate waiting for the route, the
    route for the gate, would be a cycle). The route is deleted at the end of the update that
    ends maintenance, after every create (the rehearsal's rollbacks under load show it)."""
    on = run_stack_file(run.stack, {"meeshy:maintenance": True})
    route = next(r for r in on.resources if r.name == f"meeshy-{run.stack}-maintenance-route")
    dump = next(r for r in on.resources if r.name == f"meeshy-{run.stack}-release-backup-dump")
    gate = next(r for r in on.resources if r.name == f"meeshy-{run.stack}-release-gate-check")
    assert route.urn in dump.dependencies
    assert dump.urn in gate.dependencies and on.container("gateway").urn in gate.dependencies
    assert set(route.dependencies) == {on.container("traefik").urn, on.container("maintenance").urn}
    assert not [r for r in run.resources if r.name.endswith("-maintenance-route")]
    plain_dump = next(r for r in run.resources if r.name == f"meeshy-{run.stack}-release-backup-dump")
    assert not [d for d in plain_dump.dependencies if "maintenance" in d]


def test_each_routed_service_is_handed_over_after_the_gate_and_cleared_before_it_starts(run):
    """handover.py: the old container is drained only once the new one passed the gate (the
    handover depends on both, and runs again whenever the container is created anew: its
    trigger is the container's id); the name is cleared before the container is created."""
    gate = next(r for r in run.resources if r.name == f"meeshy-{run.stack}-release-gate-check")
    for service in ROLLING:
        container = run.container(service)
        handover_cmd = run.named(f"meeshy-{run.stack}-{service}-handover", ":Command")
        clear = run.named(f"meeshy-{run.stack}-{service}-clear", ":Command")
        assert {container.urn, gate.urn} <= set(handover_cmd.dependencies)
        assert handover_cmd.inputs["triggers"] == [f"{container.name}-id"]   # the mocks' id
        assert container.inputs["name"] in handover_cmd.inputs["create"]
        assert container.inputs["name"] in handover_cmd.inputs["delete"]
        # Drained by id: a container re-created under the same name is not the one drained.
        assert f"exec {container.name}-id touch" in handover_cmd.inputs["delete"]
        assert clear.urn in container.dependencies
        assert clear.inputs["triggers"] == [container.inputs["name"]]


def test_the_values_a_switch_sets_change_no_docker_resource_the_policy_pack_judges(run):
    """The switch's phases after the window opens run without the policy pack (ops/switch/
    plan.py): their documents are the desired one with maintenance on and ops' passes, which
    must declare the very Docker resources (the only ones the pack's rules read) the pack
    judged in the desired document before the switch."""
    config = stack_file_config(run.stack)
    desired, passes = {}, {"meeshy:maintenance": True,
                           "meeshy:backup": {**config.get("meeshy:backup", {}), "pass": "switch-1"}}
    if config.get("meeshy:migration"):     # the switch onto the migration's target
        section = config["meeshy:migration"]
        desired = {"meeshy:database": {**config["meeshy:database"], "name": section["targetDatabase"]},
                   "meeshy:migration": {**section, "pass": "switch-1-delta"}}
        passes["meeshy:migration"] = {**section, "pass": "switch-1-delta", "liveSource": False,
                                      "window": True}
    before = run_stack_file(run.stack, desired)
    in_window = run_stack_file(run.stack, {**desired, **passes})

    def judged(program):
        return {r.name: (r.type, r.inputs, r.protect) for r in program.resources
                if r.type.startswith("docker:")}
    assert len(judged(before)) > 10 and judged(in_window) == judged(before)
    assert [r for r in in_window.resources if r.name.endswith("-maintenance-route")]


def test_a_switchs_window_update_runs_the_delta_pass_before_the_services_it_moves_start():
    """The release of a switch (`migration.window`, ops/switch/plan.py): maintenance on first,
    then the delta pass into the new database, and only then the services that use it (Meeshy's
    gateway writes at boot) and the schema check; the gate waits for all of them. Without the
    flag, the services on the migration's target never run it (it would write their database)."""
    section = stack_file_config("production")["meeshy:migration"]
    window = run_stack_file("production", {
        "meeshy:maintenance": True, "meeshy:database": {"name": section["targetDatabase"]},
        "meeshy:migration": {**section, "pass": "sw1-delta", "liveSource": False, "window": True}})
    route = window.named("meeshy-production-maintenance-route", ":Command")
    dump = window.named("meeshy-production-release-backup-dump", ":Command")
    migration = window.named("meeshy-production-release-migration-run", ":Command")
    assert route.urn in dump.dependencies and dump.urn in migration.dependencies
    for service in ("translator", "gateway"):
        assert migration.urn in window.container(service).dependencies, service
    checks = [window.named(f"meeshy-production-release-schema-check-{step}", ":Command")
              for step in ("copy", "validate", "prisma")]
    assert all(migration.urn in check.dependencies for check in checks)
    gate = window.named("meeshy-production-release-gate-check", ":Command")
    assert {migration.urn, checks[1].urn, checks[2].urn} <= set(gate.dependencies)
    after = run_stack_file("production", {
        "meeshy:database": {"name": section["targetDatabase"]},
        "meeshy:migration": {**section, "pass": "sw1-delta"}})
    assert not [r for r in after.resources if r.name.endswith("-migration-run")]
