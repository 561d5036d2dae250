"""Re-creating a container exactly as `docker inspect` recorded it: a pure builder.

Why `docker create` + `network connect` + `start` rather than one `docker run`: the engine here
(API 1.41) accepts a single network at creation, and a compose container sits on its project
network with aliases that must all resolve from its first start.

Secrets stay off the command line: environment values go into an env file and labels (basic-auth
hashes) into a label file, both written by the caller in a private directory; the argument list
names only the files. (Not `--env NAME` with the value in the CLI's own environment: a container
variable such as DOCKER_HOST or HOME would then redirect the docker CLI itself.)

A recorded setting this builder cannot reproduce raises `NotRestorable` (the takeover checks
every container before it stops any), rather than silently re-creating something different.
"""
from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Mapping

from commands.docker import docker, network_connect

DEFAULT_SHM_BYTES = 64 * 1024 * 1024


class NotRestorable(ValueError):
    """A recorded container setting cannot be reproduced with the docker CLI; names the key."""


@dataclass(frozen=True)
class CreatePlan:
    name: str
    create: list[str]                 # `docker create ...` (names only, no secret values)
    env_file: str                     # the text of the --env-file
    label_file: str                   # the text of the --label-file
    connects: list[list[str]] = field(default_factory=list)   # extra networks, before start
    start: bool = True                # it was running when audited


def duration(nanoseconds: int) -> str:
    """A Go duration the CLI parses back to the same nanoseconds: 30s, 1500ms, 7ns."""
    for unit, size in (("s", 10**9), ("ms", 10**6), ("us", 10**3)):
        if nanoseconds % size == 0:
            return f"{nanoseconds // size}{unit}"
    return f"{nanoseconds}ns"


def healthcheck_equivalent(recorded: list | None, restored: list | None) -> bool:
    """The CLI only writes shell-form health commands: ["CMD", a, b] comes back as
    ["CMD-SHELL", "a b"] (same program, run through /bin/sh)."""
    def norm(test):
        if test and test[0] == "CMD":
            return ["CMD-SHELL", shlex.join(test[1:])]
        return list(test or [])
    return norm(recorded) == norm(restored)


def env_file_text(env_list: list[str] | None, where: str) -> str:
    """The recorded environment as an env file: one NAME=VALUE a line, taken verbatim by the CLI."""
    lines = []
    for item in env_list or []:
        name, sep, _ = item.partition("=")
        if not sep or not name or name != name.strip() or name.startswith("#"):
            raise NotRestorable(f"{where}.Config.Env: an entry has no usable NAME=VALUE form")
        if "\n" in item:
            raise NotRestorable(f"{where}.Config.Env.{name}: a newline cannot go through an env file")
        lines.append(item + "\n")
    return "".join(lines)


def label_file_text(labels: Mapping[str, str], where: str) -> str:
    for key, value in labels.items():
        if "\n" in key or "\n" in str(value) or "=" in key:
            raise NotRestorable(f"{where}.Config.Labels.{key}: a newline or '=' cannot go "
                                "through a label file")
    return "".join(f"{k}={v}\n" for k, v in sorted(labels.items()))


def _ports(host_config: Mapping) -> list[str]:
    out: list[str] = []
    for port, bindings in sorted((host_config.get("PortBindings") or {}).items()):
        for b in bindings or []:
            ip, host_port = b.get("HostIp") or "", b.get("HostPort") or ""
            out += ["--publish", f"{ip}:{host_port}:{port}" if ip else f"{host_port}:{port}"]
    return out


def _mounts(mounts: list, where: str) -> list[str]:
    out: list[str] = []
    for i, m in enumerate(sorted(mounts or [], key=lambda m: m["Destination"])):
        kind, dest = m.get("Type"), m["Destination"]
        if kind == "volume":
            parts = ["type=volume", f"source={m['Name']}", f"target={dest}"]
        elif kind == "bind":
            parts = ["type=bind", f"source={m['Source']}", f"target={dest}"]
            if m.get("Propagation") not in (None, "", "rprivate"):
                parts.append(f"bind-propagation={m['Propagation']}")
        elif kind == "tmpfs":
            parts = ["type=tmpfs", f"target={dest}"]
        else:
            raise NotRestorable(f"{where}.Mounts[{i}]: mount type {kind!r} is not supported")
        if not m.get("RW", True):
            parts.append("readonly")
        if any("," in p for p in parts):
            raise NotRestorable(f"{where}.Mounts[{i}]: a ',' in a path cannot go through --mount")
        out += ["--mount", ",".join(parts)]
    return out


def _health(cfg: Mapping, image_cfg: Mapping) -> list[str]:
    hc, image_hc = cfg.get("Healthcheck"), image_cfg.get("Healthcheck")
    if not hc or hc == image_hc:
        return []
    test = hc.get("Test") or []
    if test == ["NONE"]:
        return ["--no-healthcheck"]
    out: list[str] = []
    if test and test[0] in ("CMD", "CMD-SHELL"):
        out += ["--health-cmd", test[1] if test[0] == "CMD-SHELL" else shlex.join(test[1:])]
    elif test:
        raise NotRestorable(f"Config.Healthcheck.Test: unknown form {test[0]!r}")
    for key, flag in (("Interval", "--health-interval"), ("Timeout", "--health-timeout"),
                      ("StartPeriod", "--health-start-period")):
        if hc.get(key):
            out += [flag, duration(int(hc[key]))]
    if hc.get("Retries"):
        out += ["--health-retries", str(hc["Retries"])]
    return out


def _command(cfg: Mapping, image_cfg: Mapping, where: str) -> tuple[list[str], list[str]]:
    """(--entrypoint flags, arguments after the image) giving the recorded Entrypoint + Cmd."""
    entry, cmd = cfg.get("Entrypoint") or None, cfg.get("Cmd") or []
    if entry == (image_cfg.get("Entrypoint") or None):
        if not cmd and image_cfg.get("Cmd"):
            raise NotRestorable(f"{where}.Config.Cmd: empty while the image has a default command")
        return [], list(cmd)
    if not entry:
        return ["--entrypoint", ""], list(cmd)
    return ["--entrypoint", entry[0]], [*entry[1:], *cmd]


_LIST_FLAGS = (("CapAdd", "--cap-add"), ("CapDrop", "--cap-drop"), ("SecurityOpt", "--security-opt"),
               ("ExtraHosts", "--add-host"), ("Dns", "--dns"), ("DnsSearch", "--dns-search"),
               ("DnsOptions", "--dns-option"), ("GroupAdd", "--group-add"))
_MODE_FLAGS = (("PidMode", "--pid"), ("IpcMode", "--ipc"), ("UTSMode", "--uts"),
               ("CgroupnsMode", "--cgroupns"), ("UsernsMode", "--userns"))
_UNSUPPORTED = ("Links", "VolumesFrom", "DeviceRequests", "DeviceCgroupRules")


def _host_config(hc: Mapping, where: str) -> list[str]:
    for key in _UNSUPPORTED:
        if hc.get(key):
            raise NotRestorable(f"{where}.HostConfig.{key} is set; restoring it is not supported")
    out: list[str] = []
    policy = hc.get("RestartPolicy") or {}
    name = policy.get("Name") or "no"
    retries = policy.get("MaximumRetryCount") or 0
    out += ["--restart", f"{name}:{retries}" if name == "on-failure" and retries else name]
    for flag, on in (("--privileged", hc.get("Privileged")), ("--init", hc.get("Init")),
                     ("--read-only", hc.get("ReadonlyRootfs")), ("--rm", hc.get("AutoRemove"))):
        if on:
            out.append(flag)
    for key, flag in _LIST_FLAGS:
        for item in hc.get(key) or []:
            out += [flag, item]
    for key, flag in _MODE_FLAGS:
        if hc.get(key):
            out += [flag, hc[key]]
    if hc.get("Runtime") not in (None, "", "runc"):
        out += ["--runtime", hc["Runtime"]]
    log = hc.get("LogConfig") or {}
    if log.get("Type"):
        out += ["--log-driver", log["Type"]]
        for key, value in sorted((log.get("Config") or {}).items()):
            out += ["--log-opt", f"{key}={value}"]
    for key, flag in (("Memory", "--memory"), ("MemoryReservation", "--memory-reservation"),
                      ("MemorySwap", "--memory-swap"), ("CpuShares", "--cpu-shares"),
                      ("PidsLimit", "--pids-limit")):
        if hc.get(key) and hc[key] > 0:
            out += [flag, str(hc[key])]
    if hc.get("NanoCpus"):
        out += ["--cpus", f"{hc['NanoCpus'] / 1e9:g}"]
    if hc.get("ShmSize") and hc["ShmSize"] != DEFAULT_SHM_BYTES:
        out += ["--shm-size", f"{hc['ShmSize']}b"]
    for path, options in sorted((hc.get("Tmpfs") or {}).items()):
        out += ["--tmpfs", f"{path}:{options}" if options else path]
    for u in hc.get("Ulimits") or []:
        out += ["--ulimit", f"{u['Name']}={u['Soft']}:{u['Hard']}"]
    for key, value in sorted((hc.get("Sysctls") or {}).items()):
        out += ["--sysctl", f"{key}={value}"]
    for d in hc.get("Devices") or []:
        out += ["--device", f"{d['PathOnHost']}:{d['PathInContainer']}:{d.get('CgroupPermissions') or 'rwm'}"]
    return out


def _networks(record: Mapping, where: str) -> tuple[list[str], list[tuple[str, list[str], str | None]]]:
    """(flags for the first network, [(network, aliases, ip)] to connect before start)."""
    mode = record["HostConfig"].get("NetworkMode") or "default"
    if mode in ("host", "none") or mode.startswith("container:"):
        return ["--network", mode], []
    short_id = record["Id"][:12]
    attached = []
    for net, endpoint in (record.get("NetworkSettings", {}).get("Networks") or {}).items():
        endpoint = endpoint or {}
        if endpoint.get("Links"):
            raise NotRestorable(f"{where}.NetworkSettings.Networks.{net}.Links is set; not supported")
        aliases = [a for a in endpoint.get("Aliases") or [] if a != short_id]
        ip = (endpoint.get("IPAMConfig") or {}).get("IPv4Address") or None
        attached.append((net, aliases, ip))
    attached.sort(key=lambda item: (item[0] != mode, item[0]))   # its NetworkMode first
    if not attached:
        return ["--network", "none"], []
    net, aliases, ip = attached[0]
    flags = ["--network", net]
    for alias in aliases:
        flags += ["--network-alias", alias]
    if ip:
        flags += ["--ip", ip]
    return flags, attached[1:]


def create_plan(record: Mapping, image_config: Mapping, *, env_file: str, label_file: str,
                image: str | None = None, docker_host: str | None = None) -> CreatePlan:
    """How to re-create `record` (a raw `docker container inspect` item) whose image's
    `Config` is `image_config`; the caller writes `plan.env_file` to `env_file` and
    `plan.label_file` to `label_file` before running `plan.create`. `image` is the reference
    to create from: the recorded name when it still points to the recorded image id (so
    `docker ps` reads as before), else the id itself (the default)."""
    name = record["Name"].lstrip("/")
    where = f"container {name}"
    cfg, hc = record["Config"], record["HostConfig"]
    env_text = env_file_text(cfg.get("Env"), where)
    labels_text = label_file_text(cfg.get("Labels") or {}, where)
    entry_flags, args = _command(cfg, image_config, where)
    net_flags, extra = _networks(record, where)
    cmd = [*docker(docker_host), "create", "--name", name]
    if cfg.get("Hostname") and cfg["Hostname"] != record["Id"][:12]:
        cmd += ["--hostname", cfg["Hostname"]]
    if cfg.get("Domainname"):
        cmd += ["--domainname", cfg["Domainname"]]
    for key, flag in (("User", "--user"), ("WorkingDir", "--workdir"), ("StopSignal", "--stop-signal")):
        if (cfg.get(key) or "") != (image_config.get(key) or ""):
            if not cfg.get(key):
                raise NotRestorable(f"{where}.Config.{key}: cleared, while the image sets "
                                    f"{image_config.get(key)!r}")
            cmd += [flag, cfg[key]]
    if cfg.get("StopTimeout") is not None:
        cmd += ["--stop-timeout", str(cfg["StopTimeout"])]
    if cfg.get("Tty"):
        cmd.append("--tty")
    if cfg.get("OpenStdin"):
        cmd.append("--interactive")
    cmd += ["--env-file", env_file, "--label-file", label_file]
    image_ports = set(image_config.get("ExposedPorts") or {})
    for port in sorted(set(cfg.get("ExposedPorts") or {}) - image_ports
                       - set(hc.get("PortBindings") or {})):
        cmd += ["--expose", port]
    cmd += [*_ports(hc), *_mounts(record.get("Mounts"), where), *net_flags, *_host_config(hc, where),
            *_health(cfg, image_config), *entry_flags, image or record["Image"], *args]
    connects = [network_connect(net, name, aliases=aliases, ipv4=ip, docker_host=docker_host)
                for net, aliases, ip in extra]
    running = bool((record.get("State") or {}).get("Running"))
    return CreatePlan(name, cmd, env_text, labels_text, connects, start=running)
