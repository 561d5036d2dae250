"""Every secret of a realistic production is masked in everything the audit writes.

The container is a real `docker inspect` of a compose-style gateway carrying production's
secrets (test_audit_gateway_inspect.json); the compose file and .env are production-shaped.
The whole audit runs against an engine double that answers the docker CLI with those records
(the real engine is exercised by tests/e2e/test_takeover_docker.py)."""
from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path

from takeover.audit.capture import audit
from takeover.docker_host import Engine
from takeover.mask import (
    MASK,
    mask_argv,
    mask_compose,
    mask_container,
    mask_env_file,
    mask_labels,
    mask_string,
)

RECORD = json.loads((Path(__file__).with_name("test_audit_gateway_inspect.json")).read_text())
SECRETS = ["Adm1n!Passw0rd", "Me3shy#Bot", "At4beth$ecret", "Db-Pa55w0rd-Prod", "R3dis-S3cret",
           "9f2c7e1b4a6d8f0e3c5b7a9d1f3e5c7b9a1d3f5e7c9b1a3d5f7e9c1b3a5d7f9e",
           "$apr1$Zq8yH3kd$Xf0yQmV3bq5mEJ1Vq2yZb/", "cUu7pX2f8R1uEw9l6kM0ZeU4QkGzU2o1bS8uYpJ3i5m6n7o8p9q0r",
           "dbPassInCmd", "hunter2-env-file", "compose-literal-jwt", "tr4efik-dash"]
COMPOSE = """services:
  gateway:
    image: isopen/meeshy-gateway:1.0.0
    environment:
      - JWT_SECRET=compose-literal-jwt
      - ADMIN_PASSWORD=${ADMIN_PASSWORD}
    labels:
      - "traefik.http.middlewares.traefik-auth.basicauth.users=admin:$$apr1$$Zq8yH3kd$$Xf0yQmV3bq5mEJ1Vq2yZb/"
      - "traefik.enable=true"
  database:
    image: mongo:8.0
    command: mongod --replSet rs0 --bind_ip_all
    healthcheck:
      test: ["CMD-SHELL", "mongosh -u root -p dbPassInCmd --eval 'db.runCommand(\\"ping\\").ok'"]
  redis:
    command: ["redis-server", "--requirepass", "R3dis-S3cret"]
    environment:
      REDIS_PASSWORD: R3dis-S3cret
x-dashboard: {password: tr4efik-dash}
"""
ENV_FILE = ("# old: ADMIN_PASSWORD=hunter2-env-file\nADMIN_PASSWORD=Adm1n!Passw0rd\n"
            "export JWT_SECRET=abc\nDOMAIN=meeshy.me\ngarbage line\n")


def test_container_env_values_all_masked_names_kept():
    masked = mask_container(RECORD["container"])
    env = masked["Config"]["Env"]
    assert [e.partition("=")[0] for e in env] == [e.partition("=")[0]
           for e in RECORD["container"]["Config"]["Env"]]
    assert all(e.endswith("=" + MASK) for e in env)
    labels = masked["Config"]["Labels"]
    assert labels["traefik.http.middlewares.gateway-auth.basicauth.users"] == MASK
    # Ordinary labels stay readable: the audit is for reading.
    assert labels["traefik.http.routers.gateway.rule"] == "Host(`gate.meeshy.me`) || Host(`api.meeshy.me`)"
    assert labels["com.docker.compose.service"] == "gateway"
    text = json.dumps(masked)
    for secret in SECRETS:
        assert secret not in text
    assert masked["HostConfig"]["PortBindings"] == RECORD["container"]["HostConfig"]["PortBindings"]


def test_string_rules():
    assert mask_string("mongodb://meeshy:Db-Pa55w0rd-Prod@database:27017/meeshy?replicaSet=rs0") == \
        f"mongodb://meeshy:{MASK}@database:27017/meeshy?replicaSet=rs0"
    assert mask_string("redis-server --requirepass R3dis --appendonly yes") == \
        f"redis-server --requirepass {MASK} --appendonly yes"
    assert mask_string("--api-key=abc123 --port=80") == f"--api-key={MASK} --port=80"
    assert mask_string("mongosh -u root -p s3cr3t --eval 1") == f"mongosh -u root -p {MASK} --eval 1"
    assert mask_string("docker run -p 80:80 traefik") == "docker run -p 80:80 traefik"
    assert mask_string("admin:$2y$05$abcdefghijklmnopqrstuv") == MASK
    assert mask_string("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.sig") == MASK
    assert mask_string("traefik.http.services.x.loadbalancer.passhostheader=true") == \
        "traefik.http.services.x.loadbalancer.passhostheader=true"
    assert mask_argv(["redis-cli", "-a", "pw", "ping"]) == ["redis-cli", "-a", MASK, "ping"]
    assert mask_argv(["--password", "pw", "--port", "27017"]) == ["--password", MASK, "--port", "27017"]
    assert mask_labels({"SMTP_TOKEN": "x", "app": "y"}) == {"SMTP_TOKEN": MASK, "app": "y"}


def test_compose_and_env_file_masking():
    import yaml
    masked = mask_compose(yaml.safe_load(COMPOSE))
    text = yaml.safe_dump(masked)
    for secret in SECRETS:
        assert secret not in text
    assert masked["services"]["gateway"]["environment"] == [f"JWT_SECRET={MASK}", f"ADMIN_PASSWORD={MASK}"]
    assert masked["services"]["redis"]["environment"] == {"REDIS_PASSWORD": MASK}
    assert masked["services"]["database"]["command"] == "mongod --replSet rs0 --bind_ip_all"
    assert masked["services"]["gateway"]["image"] == "isopen/meeshy-gateway:1.0.0"
    lines, dropped = mask_env_file(ENV_FILE)
    assert lines == [f"ADMIN_PASSWORD={MASK}", f"JWT_SECRET={MASK}", f"DOMAIN={MASK}",
                     f"# line 5: not a NAME=VALUE assignment ({MASK})"]
    assert dropped == 1


class RecordedEngine(Engine):
    """Answers the docker CLI from recorded JSON, keyed on the command's words."""

    def __init__(self, answers: dict[tuple, str]):
        super().__init__()
        self.answers, self.calls = answers, []

    def run(self, argv, *, timeout=None, input_text=None, check=True):
        self.calls.append(argv)
        for key, out in self.answers.items():
            if tuple(argv[1:1 + len(key)]) == key:
                return subprocess.CompletedProcess(argv, 0, out, "")
        return subprocess.CompletedProcess(argv, 1, "", "Error: No such object")


def test_whole_audit_output_holds_no_secret(tmp_path):
    work = tmp_path / "opt-meeshy"
    work.mkdir()
    (work / "docker-compose.yml").write_text(COMPOSE)
    (work / ".env").write_text(ENV_FILE)
    gateway = copy.deepcopy(RECORD["container"])
    labels = gateway["Config"]["Labels"]
    labels["com.docker.compose.project.config_files"] = str(work / "docker-compose.yml")
    labels["com.docker.compose.project.working_dir"] = str(work)
    database = copy.deepcopy(gateway)
    database.update(Id="d" * 64, Name="/meeshy-database")
    database["Config"]["Labels"] = {**labels, "com.docker.compose.service": "database"}
    database["Config"]["Cmd"] = ["mongod", "--replSet", "rs0", "--bind_ip_all"]
    database["Mounts"] = [{"Type": "volume", "Name": "meeshy_database_data",
                           "Destination": "/data/db", "RW": True}]
    database["State"]["Running"] = True
    inventory = {"meeshy": {"User": {"count": 207, "indexes": [
        {"v": 2, "key": {"_id": 1}, "name": "_id_"},
        {"v": 2, "key": {"email": 1}, "name": "email_1", "unique": True}]}}}
    volume = {"Name": "meeshy_database_data", "Driver": "local",
              "Mountpoint": "/var/lib/docker/volumes/x/_data",
              "Labels": {"com.docker.compose.volume": "database_data"},
              "Options": {"o": "password=vol-secret"}}
    answers = {
        ("version",): "20.10.24\n",
        ("ps", "--all", "--no-trunc", "--quiet", "--filter"): f"{gateway['Id']}\n{database['Id']}\n",
        ("container", "inspect"): json.dumps([gateway, database]),
        ("image", "inspect"): json.dumps([RECORD["image"]]),
        ("volume", "ls"): "meeshy_database_data\n",
        ("volume", "inspect", "meeshy_database_data"): json.dumps([volume]),
        ("volume", "inspect", "meeshy_gateway_uploads"):
            json.dumps([{**volume, "Name": "meeshy_gateway_uploads"}]),
        ("network", "ls"): "",
        ("network", "inspect"): json.dumps([{"Name": "meeshy-network", "Id": "n" * 64, "Driver": "bridge"}]),
        ("exec", "meeshy-database", "mongosh"): "Current Mongosh Log ID: x\n" + json.dumps(inventory) + "\n",
    }
    engine = RecordedEngine(answers)
    out = tmp_path / "snapshot"
    printed = []
    snap = audit("production", out, engine=engine, stack_file=tmp_path / "none.yaml", log=printed.append)
    written = "\n".join(p.read_text() for p in sorted(out.rglob("*")) if p.is_file())
    for secret in [*SECRETS, "vol-secret"]:
        assert secret not in written and secret not in printed[0], secret
    assert "JWT_SECRET=<masked>" in written and "ADMIN_PASSWORD" in written
    assert snap["database"]["method"] == "docker exec meeshy-database mongosh"
    assert json.loads((out / "database.json").read_text())["databases"]["meeshy"]["collections"]["User"] == {
        "count": 207, "indexes": [{"key": [["_id", 1]], "name": "_id_"},
                                  {"key": [["email", 1]], "name": "email_1", "unique": True}]}
    assert snap["adoptSuggestion"]["volumes"] == {"database-data": "meeshy_database_data",
                                                  "gateway-uploads": "meeshy_gateway_uploads"}
    assert sorted(p.name for p in (out / "compose").iterdir()) \
        == ["1-docker-compose.yml.masked.yml", "1-env.masked.env"]
