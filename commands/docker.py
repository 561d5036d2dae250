"""Pure builders of the docker CLI command lines the audit and the compose takeover run.

Each returns an argument list (compared list for list in tests/unit/takeover/test_compose_cli.py); nothing
here runs a process. `docker exec` comes from commands/services.py, the one the components
use. The recreation of an audited container is in commands/docker_create.py.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Iterable, Mapping, Sequence

COMPOSE_PROJECT = "com.docker.compose.project"
COMPOSE_SERVICE = "com.docker.compose.service"
COMPOSE_CONFIG_FILES = "com.docker.compose.project.config_files"
COMPOSE_WORKING_DIR = "com.docker.compose.project.working_dir"
COMPOSE_ENV_FILE = "com.docker.compose.project.environment_file"


def docker(docker_host: str | None = None) -> list[str]:
    """`docker`, talking to `docker_host` (e.g. ssh://ops@host) when given, else the local engine."""
    return ["docker", "--host", docker_host] if docker_host else ["docker"]


SSH_OPTIONS_ENV = "MEESHY_DOCKER_SSH_OPTIONS"
SSH_BINARY_ENV = "MEESHY_DOCKER_SSH"
SSH_SHIM_DIR = Path(__file__).resolve().parent / "ssh_shim"


def ssh_environment(options: Sequence[str], environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """What a process running `docker --host ssh://...` needs in its environment so the CLI's
    ssh uses `options`: commands/ssh_shim first on PATH, the options and the real ssh beside it."""
    environ = os.environ if environ is None else environ
    path = [p for p in environ.get("PATH", "").split(os.pathsep) if p and p != str(SSH_SHIM_DIR)]
    real = shutil.which("ssh", path=os.pathsep.join(path)) or "/usr/bin/ssh"
    return {"PATH": os.pathsep.join([str(SSH_SHIM_DIR), *path]), SSH_BINARY_ENV: real,
            SSH_OPTIONS_ENV: " ".join(options)}


def without_ssh_shim(environ: Mapping[str, str]) -> dict[str, str]:
    """`environ` as it was before ssh_environment: plain ssh, with only the options it is given."""
    path = [p for p in environ.get("PATH", "").split(os.pathsep) if p != str(SSH_SHIM_DIR)]
    return {**{k: v for k, v in environ.items() if k not in (SSH_OPTIONS_ENV, SSH_BINARY_ENV)},
            "PATH": os.pathsep.join(path)}


def ssh_target(docker_host: str) -> list[str]:
    """`ssh://user@host:port` as ssh's own arguments: `-p port user@host`."""
    rest = docker_host[len("ssh://"):]
    login, _, port = rest.partition(":")
    return [*(["-p", port] if port else []), login]


def ssh_probe(docker_host: str, options: Sequence[str]) -> list[str]:
    """One ssh connection that asks the remote engine its version: reaches the host, proves
    the key and the host key, and finds docker there, or says which of these failed."""
    return ["ssh", *options, *ssh_target(docker_host), "--",
            "docker", "version", "--format", "'{{.Server.Version}}'"]


def _label_filters(labels: Mapping[str, str | None] | Sequence[str]) -> list[str]:
    items = labels.items() if isinstance(labels, Mapping) else ((k, None) for k in labels)
    out: list[str] = []
    for key, value in items:
        out += ["--filter", f"label={key}" if value is None else f"label={key}={value}"]
    return out


def server_version(*, docker_host: str | None = None) -> list[str]:
    return [*docker(docker_host), "version", "--format", "{{.Server.Version}}"]


def ps_ids(*, labels: Mapping[str, str | None] | Sequence[str] = (), names: Iterable[str] = (),
           docker_host: str | None = None) -> list[str]:
    """Full ids of every container (running or not) matching all label filters; a `names`
    filter matches a substring of the name, so callers check exact names on the inspect."""
    cmd = [*docker(docker_host), "ps", "--all", "--no-trunc", "--quiet", *_label_filters(labels)]
    for name in names:
        cmd += ["--filter", f"name={name}"]
    return cmd


def container_inspect(refs: Sequence[str], *, docker_host: str | None = None) -> list[str]:
    _need(refs, "container")
    return [*docker(docker_host), "container", "inspect", *refs]


def image_inspect(refs: Sequence[str], *, docker_host: str | None = None) -> list[str]:
    _need(refs, "image")
    return [*docker(docker_host), "image", "inspect", *refs]


def volume_ls(*, labels: Mapping[str, str | None] | Sequence[str] = (),
              docker_host: str | None = None) -> list[str]:
    return [*docker(docker_host), "volume", "ls", "--quiet", *_label_filters(labels)]


def volume_inspect(names: Sequence[str], *, docker_host: str | None = None) -> list[str]:
    _need(names, "volume")
    return [*docker(docker_host), "volume", "inspect", *names]


def network_ls(*, labels: Mapping[str, str | None] | Sequence[str] = (),
               docker_host: str | None = None) -> list[str]:
    return [*docker(docker_host), "network", "ls", "--no-trunc", "--quiet", *_label_filters(labels)]


def network_inspect(refs: Sequence[str], *, docker_host: str | None = None) -> list[str]:
    _need(refs, "network")
    return [*docker(docker_host), "network", "inspect", *refs]


def stop(names: Sequence[str], *, timeout_seconds: int = 30,
         docker_host: str | None = None) -> list[str]:
    """Graceful stop: SIGTERM (or the image's stop signal), SIGKILL after `timeout_seconds`."""
    _need(names, "container")
    return [*docker(docker_host), "stop", "--time", str(int(timeout_seconds)), *names]


def rm(names: Sequence[str], *, force: bool = False, docker_host: str | None = None) -> list[str]:
    """Removes containers (`force`: running ones too). Never `--volumes`: anonymous volumes must
    survive too, since the restore mounts every audited volume again by name."""
    _need(names, "container")
    return [*docker(docker_host), "rm", *(["--force"] if force else []), *names]


def start(names: Sequence[str], *, docker_host: str | None = None) -> list[str]:
    _need(names, "container")
    return [*docker(docker_host), "start", *names]


def tag(source: str, target: str, *, docker_host: str | None = None) -> list[str]:
    return [*docker(docker_host), "tag", source, target]


def network_connect(network: str, container: str, *, aliases: Sequence[str] = (),
                    ipv4: str | None = None, docker_host: str | None = None) -> list[str]:
    cmd = [*docker(docker_host), "network", "connect"]
    for alias in aliases:
        cmd += ["--alias", alias]
    if ipv4:
        cmd += ["--ip", ipv4]
    return [*cmd, network, container]


def network_create(recorded: Mapping, *, docker_host: str | None = None) -> list[str]:
    """Re-creates a network from its `docker network inspect` record (driver, options, labels,
    IPAM subnets), for a restore that finds the compose network gone."""
    cmd = [*docker(docker_host), "network", "create", "--driver", recorded.get("Driver") or "bridge"]
    if recorded.get("Internal"):
        cmd.append("--internal")
    if recorded.get("Attachable"):
        cmd.append("--attachable")
    if recorded.get("EnableIPv6"):
        cmd.append("--ipv6")
    for key, value in sorted((recorded.get("Options") or {}).items()):
        cmd += ["--opt", f"{key}={value}"]
    for key, value in sorted((recorded.get("Labels") or {}).items()):
        cmd += ["--label", f"{key}={value}"]
    for pool in (recorded.get("IPAM") or {}).get("Config") or []:
        if pool.get("Subnet"):
            cmd += ["--subnet", pool["Subnet"]]
        if pool.get("Gateway"):
            cmd += ["--gateway", pool["Gateway"]]
        if pool.get("IPRange"):
            cmd += ["--ip-range", pool["IPRange"]]
    return [*cmd, recorded["Name"]]


def _need(items: Sequence[str], kind: str) -> None:
    if isinstance(items, str) or not items:
        raise ValueError(f"expected a non-empty list of {kind} names or ids, got {items!r}")
