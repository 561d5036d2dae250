"""The docker CLI builders of the audit and the takeover, compared list for list
(commands/docker.py, commands/docker_create.py). The recorded container is a real
`docker inspect` of a compose-style gateway (test_audit_gateway_inspect.json)."""
from __future__ import annotations

import copy
import json
import shlex
from pathlib import Path

import pytest

from commands import docker as d
from commands.docker_create import (
    NotRestorable,
    create_plan,
    duration,
    env_file_text,
    healthcheck_equivalent,
    label_file_text,
)

RECORD = json.loads((Path(__file__).with_name("test_audit_gateway_inspect.json")).read_text())
GATEWAY, IMAGE = RECORD["container"], RECORD["image"]["Config"]


def test_listing_and_inspect_builders():
    assert d.ps_ids(labels={d.COMPOSE_PROJECT: "meeshy"}) == [
        "docker", "ps", "--all", "--no-trunc", "--quiet", "--filter",
        "label=com.docker.compose.project=meeshy"]
    assert d.ps_ids(names=["meeshy-"], docker_host="ssh://ops@prod") == [
        "docker", "--host", "ssh://ops@prod", "ps", "--all", "--no-trunc", "--quiet",
        "--filter", "name=meeshy-"]
    assert d.ps_ids(labels=["meeshy.stack"]) == [
        "docker", "ps", "--all", "--no-trunc", "--quiet", "--filter", "label=meeshy.stack"]
    assert d.container_inspect(["a", "b"]) == ["docker", "container", "inspect", "a", "b"]
    assert d.image_inspect(["sha256:1"]) == ["docker", "image", "inspect", "sha256:1"]
    assert d.volume_ls(labels={d.COMPOSE_PROJECT: "meeshy"}) == [
        "docker", "volume", "ls", "--quiet", "--filter", "label=com.docker.compose.project=meeshy"]
    assert d.volume_inspect(["meeshy_database_data"]) \
    == ["docker", "volume", "inspect", "meeshy_database_data"]
    assert d.network_ls() == ["docker", "network", "ls", "--no-trunc", "--quiet"]
    assert d.network_inspect(["meeshy-network"]) == ["docker", "network", "inspect", "meeshy-network"]
    assert d.server_version() == ["docker", "version", "--format", "{{.Server.Version}}"]


def test_stop_rm_start_tag_connect():
    assert d.stop(["meeshy-gateway", "meeshy-database"], timeout_seconds=20) == [
        "docker", "stop", "--time", "20", "meeshy-gateway", "meeshy-database"]
    # Never --volumes: anonymous volumes are mounted again by name on restore.
    assert d.rm(["meeshy-gateway"]) == ["docker", "rm", "meeshy-gateway"]
    assert d.rm(["a", "b"], force=True) == ["docker", "rm", "--force", "a", "b"]
    assert d.start(["x"], docker_host="ssh://h") == ["docker", "--host", "ssh://h", "start", "x"]
    assert d.tag("sha256:ab", "meeshy-takeover/meeshy:t-ab") \
    == ["docker", "tag", "sha256:ab", "meeshy-takeover/meeshy:t-ab"]
    assert d.network_connect("admin", "meeshy-gateway", aliases=["gateway", "api"], ipv4="10.0.0.5") == [
        "docker", "network", "connect", "--alias", "gateway", "--alias", "api", "--ip", "10.0.0.5",
        "admin", "meeshy-gateway"]


@pytest.mark.parametrize("builder", [d.container_inspect, d.stop, d.rm, d.start, d.volume_inspect])
def test_builders_refuse_an_empty_list_or_a_bare_string(builder):
    with pytest.raises(ValueError, match="non-empty list"):
        builder([])
    with pytest.raises(ValueError):
        builder("meeshy-gateway")


def test_network_create_from_its_record():
    recorded = {"Name": "meeshy-network", "Driver": "bridge", "Attachable": True,
                "Options": {"com.docker.network.bridge.name": "br-meeshy"},
                "Labels": {"com.docker.compose.project": "meeshy",
                           "com.docker.compose.network": "meeshy-network"},
                "IPAM": {"Config": [{"Subnet": "172.20.0.0/16", "Gateway": "172.20.0.1"}]}}
    assert d.network_create(recorded) == [
        "docker", "network", "create", "--driver", "bridge", "--attachable",
        "--opt", "com.docker.network.bridge.name=br-meeshy",
        "--label", "com.docker.compose.network=meeshy-network",
        "--label", "com.docker.compose.project=meeshy",
        "--subnet", "172.20.0.0/16", "--gateway", "172.20.0.1", "meeshy-network"]


def test_create_plan_of_the_recorded_gateway_is_exact():
    plan = create_plan(GATEWAY, IMAGE, env_file="/priv/gw.env", label_file="/priv/gw.labels",
                       image="meeshy-local/gateway:legacy-1.0.0")
    assert plan.create == [
        "docker", "create", "--name", "meeshy-gateway",
        "--env-file", "/priv/gw.env", "--label-file", "/priv/gw.labels",
        "--publish", "127.0.0.1:3000:3000/tcp",
        "--mount", "type=bind,source=/tmp,target=/app/secrets,readonly",
        "--mount", "type=volume,source=meeshy_gateway_uploads,target=/app/uploads",
        "--network", "meeshy-network", "--network-alias", "gateway",
        "--restart", "unless-stopped", "--security-opt", "no-new-privileges:true",
        "--ipc", "private", "--cgroupns", "host", "--log-driver", "json-file",
        "--health-cmd", "curl -f http://localhost:3000/health", "--health-interval", "30s",
        "--health-timeout", "10s", "--health-start-period", "30s", "--health-retries", "3",
        "meeshy-local/gateway:legacy-1.0.0", "python", "-m", "meeshy_standin"]
    assert plan.connects == [] and plan.start is False      # it was created, never started
    # No secret value on the command line; every one of them in the env file.
    joined = shlex.join(plan.create)
    for secret in ("Adm1n!Passw0rd", "Db-Pa55w0rd-Prod", "$apr1$Zq8yH3kd"):
        assert secret not in joined
    assert "ADMIN_PASSWORD=Adm1n!Passw0rd\n" in plan.env_file
    assert plan.env_file.count("\n") == len(GATEWAY["Config"]["Env"])
    assert "traefik.http.middlewares.gateway-auth.basicauth.users=admin:$apr1$" in plan.label_file


def test_create_plan_by_id_with_extra_networks_entrypoint_and_running_state():
    record = copy.deepcopy(GATEWAY)
    record["State"]["Running"] = True
    record["Config"]["Entrypoint"] = ["tini", "--", "docker-entrypoint.sh"]
    record["Config"]["Cmd"] = ["node", "dist/server.js"]
    networks = record["NetworkSettings"]["Networks"]
    networks["admin-net"] = {**networks["meeshy-network"], "Aliases": ["gw", record["Id"][:12]],
                             "IPAMConfig": {"IPv4Address": "172.30.0.9"}}
    plan = create_plan(record, IMAGE, env_file="e", label_file="l", docker_host="ssh://ops@prod")
    assert plan.create[:4] == ["docker", "--host", "ssh://ops@prod", "create"]
    assert plan.create[-7:] == ["--entrypoint", "tini", record["Image"], "--", "docker-entrypoint.sh",
                                "node", "dist/server.js"]
    assert plan.connects == [["docker", "--host", "ssh://ops@prod", "network", "connect", "--alias", "gw",
                              "--ip", "172.30.0.9", "admin-net", "meeshy-gateway"]]
    assert plan.start is True


def test_create_plan_settings_that_differ_from_the_image():
    record = copy.deepcopy(GATEWAY)
    cfg, hc = record["Config"], record["HostConfig"]
    cfg.update(User="root", WorkingDir="/srv", Hostname="gateway-1", StopSignal="SIGINT", StopTimeout=45,
               Healthcheck={"Test": ["NONE"]})
    hc.update(RestartPolicy={"Name": "on-failure", "MaximumRetryCount": 5}, Memory=536870912,
              NanoCpus=1500000000, ShmSize=268435456, Tmpfs={"/run": "size=64m"},
              Ulimits=[{"Name": "nofile", "Soft": 1024, "Hard": 4096}], ExtraHosts=["db:10.0.0.2"],
              CapAdd=["NET_ADMIN"], Init=True, ReadonlyRootfs=True)
    argv = create_plan(record, IMAGE, env_file="e", label_file="l").create
    for flags in (["--hostname", "gateway-1"], ["--user", "root"], ["--workdir", "/srv"],
                  ["--stop-signal", "SIGINT"], ["--stop-timeout", "45"], ["--restart", "on-failure:5"],
                  ["--memory", "536870912"], ["--cpus", "1.5"], ["--shm-size", "268435456b"],
                  ["--tmpfs", "/run:size=64m"], ["--ulimit", "nofile=1024:4096"],
                  ["--add-host", "db:10.0.0.2"], ["--cap-add", "NET_ADMIN"], ["--no-healthcheck"]):
        i = argv.index(flags[0])
        assert argv[i:i + len(flags)] == flags
    assert "--init" in argv and "--read-only" in argv


@pytest.mark.parametrize("path, value, message", [
    (("HostConfig", "VolumesFrom"), ["other"], "HostConfig.VolumesFrom"),
    (("HostConfig", "Links"), ["/db:/gw/db"], "HostConfig.Links"),
    (("Config", "Env"), ["BROKEN"], "Config.Env"),
    (("Config", "Env"), ["KEY=multi\nline"], "Config.Env.KEY"),
    (("Config", "User"), "", "Config.User"),
])
def test_settings_that_cannot_be_restored_are_refused_by_name(path, value, message):
    record, image = copy.deepcopy(GATEWAY), dict(IMAGE, User="meeshy")
    record[path[0]][path[1]] = value
    with pytest.raises(NotRestorable, match=message.replace(".", r"\.")):
        create_plan(record, image, env_file="e", label_file="l")


def test_mount_with_a_comma_and_unknown_mount_type_are_refused():
    record = copy.deepcopy(GATEWAY)
    record["Mounts"][0]["Destination"] = "/a,b"
    with pytest.raises(NotRestorable, match="Mounts"):
        create_plan(record, IMAGE, env_file="e", label_file="l")
    record["Mounts"][0].update(Destination="/x", Type="npipe")
    with pytest.raises(NotRestorable, match="npipe"):
        create_plan(record, IMAGE, env_file="e", label_file="l")


def test_small_pieces():
    assert [duration(n) for n in (30 * 10**9, 1500 * 10**6, 7)] == ["30s", "1500ms", "7ns"]
    assert healthcheck_equivalent(["CMD", "curl", "-f", "http://x/h"], ["CMD-SHELL", "curl -f http://x/h"])
    assert not healthcheck_equivalent(["CMD", "curl"], ["CMD-SHELL", "wget"])
    assert env_file_text(["A=1", "B=x=y", "C="], "c") == "A=1\nB=x=y\nC=\n"
    assert label_file_text({"b": "2", "a": "1"}, "c") == "a=1\nb=2\n"
    with pytest.raises(NotRestorable, match="c.Config.Labels.k"):
        label_file_text({"k": "x\ny"}, "c")
