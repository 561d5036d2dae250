"""A compose-like production on the real Docker engine, as `docker compose up` leaves one:
containers from the local images carrying compose's labels, on a compose network, with a
FerretDB data volume holding legacy Meeshy data. Used by the takeover tests.

Every name carries a per-run id (`meeshytest-<hex>`) and `compose_production()` removes
everything it made (containers, volumes, network, the takeover's image tags), whatever happens.
Only 127.0.0.1 ports are published.
"""
from __future__ import annotations

import contextlib
import secrets
import subprocess
import time
from pathlib import Path

from pymongo import MongoClient

from legacy_data.dataset import insert_legacy_dataset
from ops.rehearse.local_docker import free_port
from steps.digest import database_digests

CALL_TIMEOUT = 120


def docker(*args: str, check: bool = True, timeout: float = CALL_TIMEOUT) -> str:
    done = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise AssertionError(f"docker {args[0]} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def address(container: str) -> str:
    return docker("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", container)


def wait_healthy(names: list[str], seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while True:
        state = "{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}"
        states = {n: docker("inspect", "-f", state, n)
                  for n in names}
        if all(s.split()[-1] in ("healthy", "running") and s.startswith("running") for s in states.values()):
            return
        assert time.monotonic() < deadline, f"not healthy in {seconds} s: {states}"
        time.sleep(1)


def client_of(container: str) -> MongoClient:
    return MongoClient(f"mongodb://{address(container)}:27017/?directConnection=true",
                       serverSelectionTimeoutMS=20000)


def digests(container: str, database: str = "meeshy") -> dict:
    client = client_of(container)
    try:
        return database_digests(client, database)
    finally:
        client.close()


def _write_compose_files(workdir: Path, secret_values: dict) -> Path:
    """The compose file and .env the audit reads (and must mask)."""
    workdir.mkdir()
    compose_file = workdir / "docker-compose.yml"
    compose_file.write_text(
        "services:\n  gateway:\n    image: isopen/meeshy-gateway:latest\n    environment:\n"
        f"      - JWT_SECRET={secret_values['JWT_SECRET']}\n      - ADMIN_PASSWORD=${{ADMIN_PASSWORD}}\n"
        "    labels:\n      - \"traefik.http.middlewares.auth.basicauth.users="
        f"{secret_values['basicauth']}\"\n")
    (workdir / ".env").write_text(
        f"# admin\nADMIN_PASSWORD={secret_values['ADMIN_PASSWORD']}\nDOMAIN=meeshy.test\n")
    return compose_file


def _start(env: dict, images: dict, compose_file: Path, scale: float) -> None:
    project, net, vols, names = env["project"], env["net"], env["volumes"], env["names"]

    def labels(service: str, depends: str = "") -> list[str]:
        out = ["--label", f"com.docker.compose.project={project}",
               "--label", f"com.docker.compose.service={service}",
               "--label", f"com.docker.compose.project.config_files={compose_file}",
               "--label", f"com.docker.compose.project.working_dir={env['workdir']}"]
        return out + (["--label", f"com.docker.compose.depends_on={depends}"] if depends else [])

    docker("network", "create", "--label", f"com.docker.compose.project={project}",
           "--label", "com.docker.compose.network=meeshy-network", net)
    for key, name in vols.items():
        docker("volume", "create", "--label", f"com.docker.compose.project={project}",
               "--label", f"com.docker.compose.volume={key}", name)
    common = ["--network", net, "--restart", "unless-stopped"]
    docker("run", "-d", "--name", names["database"], *common, "--network-alias", "database",
           *labels("database"), "--env", "MONGO_INITDB_DATABASE=meeshy",
           "--mount", f"type=volume,source={vols['database_data']},target=/data/db",
           "--mount", f"type=volume,source={vols['database_config']},target=/data/configdb",
           images["database"])
    docker("run", "-d", "--name", names["redis"], *common, "--network-alias", "redis", *labels("redis"),
           "--mount", f"type=volume,source={vols['redis_data']},target=/data",
           images["redis"], "redis-server", "--appendonly", "yes")
    wait_healthy([names["database"], names["redis"]])
    # The compose file's one-shot init: ran once against the database and exited 0.
    docker("run", "--name", names["mongo-init"], "--network", net, "--restart", "no",
           *labels("mongo-init", "database:service_healthy:false"),
           "--entrypoint", "mongo-ping", images["database"], "--host", "database")
    app_env = ["--env", "DATABASE_URL=mongodb://database:27017/meeshy", "--env", "REDIS_URL=redis://redis:6379"]
    docker("run", "-d", "--name", names["translator"], *common, "--network-alias", "translator",
           *labels("translator", "redis:service_healthy:false"), *app_env, images["translator"])
    secret_values = env["secrets"]
    docker("run", "-d", "--name", names["gateway"], *common, "--network-alias", "gateway",
           *labels("gateway", "translator:service_started:false"), *app_env,
           "--label", f"traefik.http.middlewares.auth.basicauth.users={secret_values['basicauth']}",
           "--label", "traefik.http.routers.gateway.rule=Host(`gate.meeshy.test`)",
           "--env", "TRANSLATOR_URL=http://translator:8000",
           "--env", f"JWT_SECRET={secret_values['JWT_SECRET']}",
           "--env", f"ADMIN_PASSWORD={secret_values['ADMIN_PASSWORD']}",
           "--security-opt", "no-new-privileges:true",
           "--health-cmd", "curl -f http://localhost:3000/health", "--health-interval", "2s",
           "--health-retries", "30",
           "--publish", f"127.0.0.1:{env['gateway_port']}:3000", images["gateway"])
    client = client_of(names["database"])
    try:
        env["counts"] = insert_legacy_dataset(client["meeshy"], seed=7, scale=scale)
        client["meeshy"]["Message"].create_index([("conversationId", 1), ("createdAt", -1)])
    finally:
        client.close()
    wait_healthy([names["translator"], names["gateway"]])


@contextlib.contextmanager
def compose_production(images: dict, workdir: Path, *, scale: float, extra_containers: tuple[str, ...] = ()):
    """Yields the production's names, volumes, secrets, ports and legacy counts; `images` maps
    database, redis, translator, gateway to local image references. `extra_containers` are
    names a test adds (removed at the end too)."""
    project = f"meeshytest-{secrets.token_hex(3)}"
    secret_values = {"JWT_SECRET": secrets.token_urlsafe(24), "ADMIN_PASSWORD": secrets.token_urlsafe(18),
                     "basicauth": f"admin:$apr1${secrets.token_hex(4)}${secrets.token_hex(11)}"}
    vols = {k: f"{project}_{k}" for k in ("database_data", "database_config", "redis_data")}
    env = {"project": project, "net": f"{project}_meeshy-network", "volumes": vols, "secrets": secret_values,
           "names": {s: f"{project}-{s}"
                     for s in ("database", "mongo-init", "redis", "translator", "gateway")},
           "gateway_port": free_port(), "workdir": workdir / "opt-meeshy"}
    try:
        _start(env, images, _write_compose_files(env["workdir"], secret_values), scale)
        yield env
    finally:
        remove(env, extra_containers)


def remove(env: dict, extra_containers: tuple[str, ...] = ()) -> None:
    project = env["project"]
    ids = docker("ps", "-aq", "--filter", f"label=com.docker.compose.project={project}", check=False)
    for name in [*ids.split(), *extra_containers, f"{project}-verify"]:
        docker("rm", "-f", name, check=False, timeout=60)
    for name in env["volumes"].values():
        docker("volume", "rm", name, check=False, timeout=60)
    docker("network", "rm", env["net"], check=False, timeout=60)
    for tag in docker("images", "--format", "{{.Repository}}:{{.Tag}}",
                      f"meeshy-takeover/{project}", check=False).split():
        docker("rmi", tag, check=False, timeout=60)
