"""The takeover on the real Docker engine: a compose-like production (real containers from the
local images, compose labels, a FerretDB data volume holding legacy Meeshy data) is audited,
taken over (containers gone, volumes and data intact) and restored exactly as recorded.

Every name carries a per-run id and everything is removed at the end, bounded. Only 127.0.0.1
ports are published. Skips only when no Docker engine answers; missing local images are built
with tools/build-images.sh (it skips current ones).
"""
from __future__ import annotations

import json
import secrets
import socket
import stat
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from pymongo import MongoClient

from ops.automation.env import REPO_ROOT
from steps.digest import database_digests
from takeover.audit.capture import audit
from takeover.audit.capture import main as audit_main
from takeover.compose.handover import TakeoverError, restore, takeover
from takeover.engine import DockerError, Engine
from testing.legacy.dataset import insert_legacy_dataset

pytestmark = pytest.mark.docker
SCALE = 0.05          # about 6,300 legacy documents: every collection of section 2, quickly
CALL_TIMEOUT = 120


def _docker(*args: str, check: bool = True, timeout: float = CALL_TIMEOUT) -> str:
    done = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise AssertionError(f"docker {args[0]} failed: {done.stderr.strip()}")
    return done.stdout.strip()


@pytest.fixture(scope="module")
def engine():
    eng = Engine()
    try:
        eng.server_version()
    except DockerError as error:
        pytest.skip(f"no Docker engine answers: {error}")
    return eng


@pytest.fixture(scope="module")
def images(engine):
    listing = subprocess.run([str(REPO_ROOT / "tools/build-images.sh"), "--list"], capture_output=True,
                             text=True, timeout=60, check=True).stdout
    refs = dict(line.split() for line in listing.splitlines() if line.strip())
    wanted = {"database": refs["mongo"], "redis": refs["redis"],
              "translator": refs["translator@legacy"], "gateway": refs["gateway@legacy"]}
    if any(not engine.inspect_images([r]) for r in wanted.values()):
        built = subprocess.run([str(REPO_ROOT / "tools/build-images.sh")], capture_output=True,
                               text=True, timeout=3600)
        assert built.returncode == 0, f"tools/build-images.sh failed: {built.stderr[-2000:]}"
    return wanted


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _address(container: str) -> str:
    return _docker("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", container)


def _wait_healthy(names: list[str], seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while True:
        status_format = "{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}"
        states = {n: _docker("inspect", "-f", status_format, n)
                  for n in names}
        if all(s.split()[-1] in ("healthy", "running") and s.startswith("running") for s in states.values()):
            return
        assert time.monotonic() < deadline, f"not healthy in {seconds} s: {states}"
        time.sleep(1)


def _digests(container: str) -> dict:
    client = MongoClient(f"mongodb://{_address(container)}:27017/?directConnection=true",
                         serverSelectionTimeoutMS=20000)
    try:
        return database_digests(client, "meeshy")
    finally:
        client.close()


@pytest.fixture
def production(engine, images, tmp_path):
    """A compose-like production named meeshytest-<id>, torn down whatever happens."""
    run = secrets.token_hex(3)
    project = f"meeshytest-{run}"
    secret_values = {"JWT_SECRET": secrets.token_urlsafe(24), "ADMIN_PASSWORD": secrets.token_urlsafe(18),
                     "basicauth": f"admin:$apr1${secrets.token_hex(4)}${secrets.token_hex(11)}"}
    workdir = tmp_path / "opt-meeshy"
    workdir.mkdir()
    compose_file = workdir / "docker-compose.yml"
    compose_file.write_text(
        "services:\n  gateway:\n    image: isopen/meeshy-gateway:latest\n    environment:\n"
        f"      - JWT_SECRET={secret_values['JWT_SECRET']}\n      - ADMIN_PASSWORD=${{ADMIN_PASSWORD}}\n"
        "    labels:\n      - \"traefik.http.middlewares.auth.basicauth.users="
        f"{secret_values['basicauth']}\"\n")
    (workdir / ".env").write_text(
        f"# admin\nADMIN_PASSWORD={secret_values['ADMIN_PASSWORD']}\nDOMAIN=meeshy.test\n")
    net = f"{project}_meeshy-network"
    vols = {k: f"{project}_{k}" for k in ("database_data", "database_config", "redis_data")}
    env = {"project": project, "net": net, "volumes": vols, "secrets": secret_values,
           "names": {s: f"{project}-{s}"
                     for s in ("database", "mongo-init", "redis", "translator", "gateway")},
           "gateway_port": _free_port(), "workdir": workdir}

    def labels(service: str, depends: str = "") -> list[str]:
        out = ["--label", f"com.docker.compose.project={project}",
               "--label", f"com.docker.compose.service={service}",
               "--label", f"com.docker.compose.project.config_files={compose_file}",
               "--label", f"com.docker.compose.project.working_dir={workdir}"]
        return out + (["--label", f"com.docker.compose.depends_on={depends}"] if depends else [])

    names = env["names"]
    db_url = "mongodb://database:27017/meeshy"
    try:
        _docker("network", "create", "--label", f"com.docker.compose.project={project}",
                "--label", "com.docker.compose.network=meeshy-network", net)
        for key, name in vols.items():
            _docker("volume", "create", "--label", f"com.docker.compose.project={project}",
                    "--label", f"com.docker.compose.volume={key}", name)
        common = ["--network", net, "--restart", "unless-stopped"]
        _docker("run", "-d", "--name", names["database"], *common, "--network-alias", "database",
                *labels("database"), "--env", "MONGO_INITDB_DATABASE=meeshy",
                "--mount", f"type=volume,source={vols['database_data']},target=/data/db",
                "--mount", f"type=volume,source={vols['database_config']},target=/data/configdb",
                images["database"])
        _docker("run", "-d", "--name", names["redis"], *common, "--network-alias", "redis", *labels("redis"),
                "--mount", f"type=volume,source={vols['redis_data']},target=/data",
                images["redis"], "redis-server", "--appendonly", "yes")
        _wait_healthy([names["database"], names["redis"]])
        # The compose file's one-shot init: ran once against the database and exited 0.
        _docker("run", "--name", names["mongo-init"], "--network", net, "--restart", "no",
                *labels("mongo-init", "database:service_healthy:false"),
                "--entrypoint", "mongo-ping", images["database"], "--host", "database")
        app_env = ["--env", f"DATABASE_URL={db_url}", "--env", "REDIS_URL=redis://redis:6379"]
        _docker("run", "-d", "--name", names["translator"], *common, "--network-alias", "translator",
                *labels("translator", "redis:service_healthy:false"), *app_env, images["translator"])
        _docker("run", "-d", "--name", names["gateway"], *common, "--network-alias", "gateway",
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
        client = MongoClient(f"mongodb://{_address(names['database'])}:27017/?directConnection=true",
                             serverSelectionTimeoutMS=20000)
        env["counts"] = insert_legacy_dataset(client["meeshy"], seed=7, scale=SCALE)
        client["meeshy"]["Message"].create_index([("conversationId", 1), ("createdAt", -1)])
        client.close()
        _wait_healthy([names["translator"], names["gateway"]])
        yield env
    finally:
        ids = _docker("ps", "-aq", "--filter", f"label=com.docker.compose.project={project}", check=False)
        for name in [*ids.split(), f"{project}-verify"]:
            _docker("rm", "-f", name, check=False, timeout=60)
        for name in vols.values():
            _docker("volume", "rm", name, check=False, timeout=60)
        _docker("network", "rm", net, check=False, timeout=60)
        for tag in _docker("images", "--format", "{{.Repository}}:{{.Tag}}",
                           f"meeshy-takeover/{project}", check=False).split():
            _docker("rmi", tag, check=False, timeout=60)


def _files_text(directory: Path) -> str:
    return "\n".join(p.read_text() for p in sorted(directory.rglob("*")) if p.is_file())


def _inspect(name: str) -> dict:
    return json.loads(_docker("container", "inspect", name))[0]


def _gateway_health(port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as answer:
            return answer.status
    except OSError as error:
        return getattr(error, "code", 0) or 0


def test_audit_takeover_and_restore_of_a_compose_production(production, engine, tmp_path):
    p, names = production, production["names"]
    before = {n: _inspect(n) for n in names.values()}
    digests = _digests(names["database"])
    assert {c: d["count"] for c, d in digests.items()} == p["counts"]

    # 1. Audit: real names, image ids, counts and indexes, every secret masked.
    out = tmp_path / "audit"
    stack_file = tmp_path / "Pulumi.production.yaml"
    stack_file.write_text("config:\n  meeshy:adopt:\n    volumes:\n"
                          f"      database-data: {p['volumes']['database_data']}\n"
                          "      redis-data: meeshy_redis_data\n")
    snap = audit("production", out, compose_project=p["project"], stack_file=stack_file, log=lambda _: None)
    found = {c["name"]: c for c in snap["containers"]}
    assert set(found) == set(names.values())
    for name, record in before.items():
        assert found[name]["imageId"] == record["Image"]
    assert snap["adoptSuggestion"]["volumes"] == {
        "database-data": p["volumes"]["database_data"], "database-config": p["volumes"]["database_config"],
        "redis-data": p["volumes"]["redis_data"]}
    assert snap["adoptSuggestion"]["networks"]["main"]["name"] == p["net"]
    assert any("meeshy_redis_data" in line and "does not exist" in line for line in snap["adoptCheck"])
    assert any(line.startswith("service frontend") for line in snap["missing"])
    assert not any(line.startswith(("service database", "service gateway", "volume database-data"))
                   for line in snap["missing"])
    database = json.loads((out / "database.json").read_text())
    collections = database["databases"]["meeshy"]["collections"]
    assert {c: v["count"] for c, v in collections.items()} == p["counts"]
    assert "conversationId_1_createdAt_-1" in {i["name"] for i in collections["Message"]["indexes"]}
    text = _files_text(out)
    for value in p["secrets"].values():
        assert value not in text
    assert "JWT_SECRET=<masked>" in text and "ADMIN_PASSWORD=<masked>" in text
    assert (out / "SUMMARY.txt").read_text().count(p["volumes"]["database_data"]) >= 1
    assert snap["database"]["method"].startswith(f"pymongo to {names['database']}")   # no mongosh in FerretDB
    # The CLI, reading the database at a URI instead: exit 3, since front end and Traefik are absent.
    uri = f"mongodb://{_address(names['database'])}:27017/"
    assert audit_main(["production", "--out", str(tmp_path / "audit-uri"), "--compose-project", p["project"],
                       "--mongo-uri", uri, "--stack-file", str(stack_file)]) == 3
    by_uri = json.loads((tmp_path / "audit-uri" / "database.json").read_text())
    assert by_uri["method"] == "uri" and by_uri["databases"] == database["databases"]

    # 2. Takeover: containers gone, volumes and data intact, real values only in the 0600 record.
    private_dir = tmp_path / "private"
    report = takeover(out, project=p["project"], private_dir=private_dir, stop_seconds=5, log=lambda _: None)
    assert report["result"] == "taken over" and sorted(report["removed"]) == sorted(names.values())
    assert _docker("ps", "-aq", "--filter", f"label=com.docker.compose.project={p['project']}") == ""
    assert sorted(engine.inspect_volumes(list(p["volumes"].values()))) == sorted(p["volumes"].values())
    private = Path(report["privateRecord"])
    assert stat.S_IMODE(private.stat().st_mode) == 0o600 and stat.S_IMODE(private_dir.stat().st_mode) == 0o700
    assert p["secrets"]["JWT_SECRET"] in private.read_text()
    for value in p["secrets"].values():
        assert value not in _files_text(out)
    # The new production would start on the adopted volumes: a fresh database container on them
    # sees exactly the same data.
    verify = f"{p['project']}-verify"
    _docker("run", "-d", "--name", verify, "--network", p["net"],
            "--mount", f"type=volume,source={p['volumes']['database_data']},target=/data/db",
            "--mount", f"type=volume,source={p['volumes']['database_config']},target=/data/configdb",
            before[names["database"]]["Image"])
    _wait_healthy([verify])
    assert _digests(verify) == digests
    # While it runs on the volumes, a restore refuses before creating anything.
    with pytest.raises(TakeoverError, match=rf"in use by running containers.*by {verify}"):
        restore(out, deadline_seconds=30, log=lambda _: None)
    assert _docker("ps", "-aq", "--filter", f"label=com.docker.compose.project={p['project']}") == ""
    _docker("rm", "-f", verify)

    # 3. Restore: same images, volumes, env, labels, ports; running, healthy, same data.
    # A first attempt out of time leaves containers behind; the next attempt replaces them.
    with pytest.raises(TakeoverError, match="before the deadline"):
        restore(out, deadline_seconds=1, log=lambda _: None)
    back = restore(out, deadline_seconds=180, log=lambda _: None)
    assert back["replacedFromEarlierAttempt"]
    assert back["result"] == "restored" and back["differences"] == []
    for name, old in before.items():
        new = _inspect(name)
        assert new["Id"] != old["Id"] and new["Image"] == old["Image"]
        assert new["Config"]["Image"] == old["Config"]["Image"]
        assert sorted(new["Config"]["Env"]) == sorted(old["Config"]["Env"])
        assert new["Config"]["Labels"] == old["Config"]["Labels"]
        assert sorted((m.get("Name"), m["Destination"], m["RW"]) for m in new["Mounts"]) == \
            sorted((m.get("Name"), m["Destination"], m["RW"]) for m in old["Mounts"])
        assert new["HostConfig"]["PortBindings"] == old["HostConfig"]["PortBindings"]
        assert new["HostConfig"]["RestartPolicy"] == old["HostConfig"]["RestartPolicy"]
        assert sorted(new["NetworkSettings"]["Networks"]) == sorted(old["NetworkSettings"]["Networks"])
        assert new["State"]["Running"] == old["State"]["Running"]
    assert _inspect(names["mongo-init"])["State"]["Status"] == "created"
    assert _inspect(names["gateway"])["State"]["Health"]["Status"] == "healthy"
    assert _gateway_health(p["gateway_port"]) == 200
    assert _digests(names["database"]) == digests
    print(f"\ntakeover of {len(names)} containers: audit {snap['seconds']} s, "
          f"takeover {report['seconds']} s, "
          f"restore {back['seconds']} s; {sum(p['counts'].values())} documents in "
          f"{len(p['counts'])} collections hash-equal after each step")


def test_takeover_stops_nothing_when_a_container_cannot_be_restored(engine, images, tmp_path):
    project = f"meeshytest-{secrets.token_hex(3)}"
    a, b, c = f"{project}-a", f"{project}-b", f"{project}-c"
    out = tmp_path / "audit"
    label = ["--label", f"com.docker.compose.project={project}"]
    try:
        _docker("run", "-d", "--name", a, *label, images["redis"])
        _docker("run", "-d", "--name", b, *label, "--volumes-from", a, images["redis"])
        audit("production", out, compose_project=project, log=lambda _: None)
        with pytest.raises(TakeoverError, match=r"nothing was stopped: .*VolumesFrom"):
            takeover(out, project=project, private_dir=tmp_path / "private", log=lambda _: None)
        assert _docker("inspect", "-f", "{{.State.Running}}", a, b).split() == ["true", "true"]
        assert not (tmp_path / "private").exists() and list(out.glob("takeover-*")) == []
        # A container that appeared since the audit: the takeover stops only what was audited.
        _docker("run", "-d", "--name", c, *label, images["redis"])
        with pytest.raises(TakeoverError, match=rf"host changed since the audit \(containers new {c}\)"):
            takeover(out, project=project, private_dir=tmp_path / "private", log=lambda _: None)
        assert _docker("inspect", "-f", "{{.State.Running}}", c) == "true"
    finally:
        for name in (c, b, a):
            _docker("rm", "-f", "-v", name, check=False, timeout=60)
