"""One way to declare a stack's container, shared by every component.

Fixed Docker names (from config/naming.py) make containers findable by operators and scripts, which is
why most containers are replaced delete-before-replace: an update never fails on a name or host
port the old container still holds.

A rolling container (the routed application services) is replaced the other way round, so a
release drops no request: its Docker name is the fixed name plus a digest of everything the
container is made of (a new container gets a new name, so both can run at once), the fixed
name stays its network alias (what the other services and ops address), and the old one is
removed at the end of the update: after the release's health gate passed on the new one (or,
in a stack without a gate, once the new one is healthy: `wait_healthy`). Traefik routes only
to healthy containers and balances over both meanwhile; handover.py makes it route to the new
one before the update ends and stop routing to the old one before it is stopped, and its retry
middleware (routing.retry_labels) sends a request that could not reach a container to another.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import pulumi
import pulumi_docker as docker

from components.platform.handover import clear_command
from components.platform.routing import identity_labels, merge
from config import naming, services
from config.naming import StackNames
from config.services import spec

RESTART_POLICY = "unless-stopped"
WAITED_INTERVAL = spec.WAITED_INTERVAL


@dataclass(frozen=True)
class Mount:
    container_path: str
    volume: Any = None          # docker.Volume name (an Output) for named volumes
    host_path: str | None = None
    read_only: bool = False


@dataclass(frozen=True)
class Publish:
    internal: int
    external: int
    ip: str = "0.0.0.0"
    protocol: str = "tcp"


@dataclass(frozen=True)
class Health:
    test: Sequence[str]         # exec form: ["CMD", ...]
    interval: str = spec.DEFAULT_INTERVAL
    timeout: str = spec.DEFAULT_TIMEOUT
    retries: int = spec.DEFAULT_RETRIES
    start_period: str = spec.DEFAULT_START_PERIOD
    start_interval: str = spec.DEFAULT_START_INTERVAL


def health_of(service: str, test: Sequence[str]) -> Health:
    """`test` with the timings `service` declares (config/services/)."""
    probe = services.by_name(service).health
    return Health(test, start_period=probe.start_period,
                  interval=WAITED_INTERVAL if probe.waited else spec.DEFAULT_INTERVAL)


@dataclass(frozen=True)
class ContainerSpec:
    service: str
    image: Any
    envs: Mapping[str, Any] = field(default_factory=dict)
    labels: Mapping[str, Any] = field(default_factory=dict)
    mounts: Sequence[Mount] = ()
    ports: Sequence[Publish] = ()
    command: Sequence[str] | None = None
    health: Health | None = None
    files: Mapping[str, str] = field(default_factory=dict)   # path -> content, uploaded at create
    # path -> content (secret Outputs allowed), uploaded read-only for every user (mode 0444)
    read_only_files: Mapping[str, Any] = field(default_factory=dict)
    wait_healthy: bool = False
    stop_grace_seconds: int | None = None
    security_opts: Sequence[str] = ("no-new-privileges:true",)
    rolling: bool = False


# How long a rolling container may take to stop once it got SIGTERM. It is drained first, so no
# request is left in flight; a process that ignores SIGTERM (a stand-in as PID 1) made every
# release wait the whole grace: 15 s doubled the rehearsal's steps.
ROLLING_STOP_SECONDS = 3


def spec_mounts(service: str, volumes: Mapping[str, Any]) -> list[Mount]:
    """Every volume `service` declares (config/services/) at its path; `volumes` maps each
    purpose to its volume's name."""
    return [Mount(use.path, volume=volumes[use.purpose], read_only=use.read_only)
            for use in services.by_name(service).volumes]


def go_duration(text: str) -> str:
    """A whole-second duration as Go prints it ("120s" -> "2m0s"): the provider stores the
    engine's normalized form, so any other spelling shows as a change on every preview."""
    units = {"h": 3600, "m": 60, "s": 1}
    match = re.fullmatch(r"((?:\d+[hms])+)", text.strip())
    if not match:
        raise ValueError(f"duration {text!r}: expected whole units such as 30s, 2m or 1h30m")
    seconds = sum(int(n) * units[u] for n, u in re.findall(r"(\d+)([hms])", text))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"


def env_list(envs: Mapping[str, Any]) -> list[Any]:
    """`NAME=value` entries, sorted; secret values stay Outputs (the list becomes secret)."""
    out: list[Any] = []
    for name in sorted(envs):
        value = envs[name]
        out.append(f"{name}={value}" if isinstance(value, str)
                   else pulumi.Output.concat(name, "=", value))
    return out


def label_list(labels: Mapping[str, Any]) -> list[docker.ContainerLabelArgs]:
    return [docker.ContainerLabelArgs(label=k, value=labels[k]) for k in sorted(labels)]


def upload_list(spec: ContainerSpec) -> list[docker.ContainerUploadArgs] | None:
    uploads = [docker.ContainerUploadArgs(file=path, content=spec.files[path])
               for path in sorted(spec.files)]
    uploads += [docker.ContainerUploadArgs(file=path, content=spec.read_only_files[path],
                                           permissions="0444")
                for path in sorted(spec.read_only_files)]
    return uploads or None


def digest_of(made_of: Any) -> str:
    """A short digest of a container's resolved inputs (plain JSON data)."""
    text = json.dumps(made_of, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:naming.DIGEST_LENGTH]


def _made_of(spec: ContainerSpec, network: Any, start_interval: bool) -> dict[str, Any]:
    """Everything a container is created from (Outputs allowed): a change of any of it replaces
    the container, so it must change a rolling container's name."""
    h = spec.health
    return {"image": spec.image, "envs": dict(spec.envs), "labels": dict(spec.labels),
            "mounts": [[m.container_path, m.volume, m.host_path, m.read_only] for m in spec.mounts],
            "ports": [[p.internal, p.external, p.ip, p.protocol] for p in spec.ports],
            "command": list(spec.command or []), "files": dict(spec.files),
            "readOnlyFiles": dict(spec.read_only_files), "network": network,
            "health": [list(h.test), h.interval, h.timeout, h.retries, h.start_period,
                       h.start_interval, start_interval] if h else None,
            "security": list(spec.security_opts)}


def docker_name(names: StackNames, spec: ContainerSpec, network: Any, start_interval: bool) -> Any:
    """The container's Docker name: fixed, or for a rolling one the fixed name and its digest
    (an Output; a digest of secrets is no secret, so the name stays readable)."""
    fixed = names.container(spec.service)
    if not spec.rolling:
        return fixed
    made_of = pulumi.Output.from_input(_made_of(spec, network, start_interval))
    return pulumi.Output.unsecret(made_of.apply(lambda resolved: f"{fixed}-{digest_of(resolved)}"))


def stack_container(names: StackNames, spec: ContainerSpec, network: Any, *,
                    provider: pulumi.ProviderResource, parent: pulumi.Resource,
                    depends_on: Sequence[pulumi.Resource] = (),
                    start_interval: bool = True, docker_host: str | None = None,
                    quiet: str | None = None) -> docker.Container:
    """`quiet`: handover.maintenance_test, for the clearing of a rolling container's name."""
    fixed = names.container(spec.service)
    h = spec.health
    name = docker_name(names, spec, network, start_interval)
    if spec.rolling:
        depends_on = [*depends_on, clear_command(fixed, name, docker_host, parent=parent,
                                                 depends_on=depends_on, quiet=quiet)]
    grace = spec.stop_grace_seconds or (ROLLING_STOP_SECONDS if spec.rolling else None)
    return docker.Container(
        fixed,
        name=name,
        image=spec.image,
        restart=RESTART_POLICY,
        command=list(spec.command) if spec.command else None,
        envs=env_list(spec.envs) or None,
        labels=label_list(merge(identity_labels(names, spec.service), spec.labels)),
        networks_advanced=[docker.ContainerNetworksAdvancedArgs(
            name=network, aliases=[fixed] if spec.rolling else None)],
        volumes=[docker.ContainerVolumeArgs(container_path=m.container_path, volume_name=m.volume,
                                            host_path=m.host_path, read_only=m.read_only)
                 for m in spec.mounts] or None,
        ports=[docker.ContainerPortArgs(internal=p.internal, external=p.external, ip=p.ip,
                                        protocol=p.protocol)
               for p in spec.ports] or None,
        healthcheck=docker.ContainerHealthcheckArgs(
            tests=list(h.test),
            # A rolling container's short interval is what drains it in seconds (handover.py).
            interval=go_duration(h.interval if start_interval or spec.rolling else WAITED_INTERVAL),
            timeout=go_duration(h.timeout),
            retries=h.retries, start_period=go_duration(h.start_period),
            start_interval=go_duration(h.start_interval) if start_interval else None) if h else None,
        uploads=upload_list(spec),
        wait=spec.wait_healthy,
        wait_timeout=180 if spec.wait_healthy else None,
        destroy_grace_seconds=grace,
        stop_timeout=grace,
        security_opts=list(spec.security_opts) or None,
        opts=pulumi.ResourceOptions(parent=parent, provider=provider,
                                    delete_before_replace=not spec.rolling,
                                    depends_on=list(depends_on)),
    )
