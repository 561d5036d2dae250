"""The takeover's two records, the plans that re-create their containers, and the comparison
of a restored container with its record.

- The masked record (`takeover-<op>.json` in the audit snapshot): what was stopped and removed,
  readable by anyone who reads the snapshot; every env value and secret masked.
- The private record: the raw `docker inspect` of every container, real environment values
  included, since a restore needs them. It is written outside the snapshot, in a directory of
  mode 0700, as a file of mode 0600 created exclusively (never overwritten), and refused on
  read when anyone else could read or replace it. Its sha256 is in the masked record, so a
  restore never runs from a file other than the one the takeover wrote.
"""
from __future__ import annotations

import hashlib
import json
import os
import shlex
import stat
import time
from pathlib import Path
from typing import Mapping

from commands.docker_create import NotRestorable, create_plan, healthcheck_equivalent
from config.locations import tools_dir
from takeover.mask import mask_deep


class RecordError(RuntimeError):
    pass


class TakeoverError(RuntimeError):
    def __init__(self, message: str, report: dict | None = None):
        super().__init__(message)
        self.report = report


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def create_plans(private: dict, docker_host: str | None, *, placeholder: bool = False,
                 files_dir: Path | None = None):
    """(container record, plan) in creation order; raises NotRestorable before anything runs."""
    plans = []
    for record in private["containers"]:
        name = record["Name"].lstrip("/")
        image = private["images"].get(record["Image"])
        if image is None:
            raise NotRestorable(f"container {name}: its image {record['Image']} is not on the engine")
        ref = (record.get("Config") or {}).get("Image")
        use = ref if ref and private.get("refs", {}).get(ref) == record["Image"] else record["Image"]
        base = Path("/nonexistent") if placeholder else files_dir
        plans.append((record, create_plan(record, image.get("Config") or {}, image=use,
                                          env_file=str(base / f"{name}.env"),
                                          label_file=str(base / f"{name}.labels"),
                                          docker_host=docker_host)))
    return plans


def default_private_dir(project: str) -> Path:
    return tools_dir() / "takeover" / project


def private_directory(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def write_private(path: Path, value) -> str:
    """Writes JSON to a new file of mode 0600; returns its sha256."""
    private_directory(path.parent)
    data = json.dumps(value, sort_keys=True).encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return hashlib.sha256(data).hexdigest()


def read_private(path: Path, sha256: str | None = None):
    try:
        info = path.stat()
    except FileNotFoundError:
        raise RecordError(f"private takeover record {path} is gone: the compose deployment's real "
                          "configuration (environment values) cannot be restored without it") from None
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO) or info.st_uid != os.geteuid():
        raise RecordError(f"private takeover record {path} has mode {stat.filemode(info.st_mode)} "
                          f"owner uid {info.st_uid}: it must be 0600 and owned by uid {os.geteuid()}; "
                          "refusing to use a record others could read or have replaced")
    data = path.read_bytes()
    if sha256 and hashlib.sha256(data).hexdigest() != sha256:
        raise RecordError(f"private takeover record {path} does not match the sha256 in the masked "
                          "record: it is not the file this takeover wrote")
    return json.loads(data)


def latest_record(path: Path) -> Path:
    """A takeover record, or the newest one in an audit snapshot directory (never one of the
    `-restore.json` reports written beside them)."""
    path = Path(path)
    if path.is_dir():
        found = sorted(p for p in path.glob("takeover-*.json") if not p.name.endswith("-restore.json"))
        if not found:
            raise RecordError(f"{path} holds no takeover-*.json: no takeover was recorded there")
        return found[-1]
    return path


def write_masked(path: Path, value: dict) -> None:
    path.write_text(json.dumps(value, indent=2, sort_keys=True, default=str) + "\n")


# What a restore must reproduce, per container, comparable between the record and the result.
def config_view(record: Mapping) -> dict:
    cfg, hc = record.get("Config") or {}, record.get("HostConfig") or {}
    short_id = record["Id"][:12]
    networks = {}
    for name, endpoint in sorted(((record.get("NetworkSettings") or {}).get("Networks") or {}).items()):
        endpoint = endpoint or {}
        networks[name] = {"aliases": sorted(a for a in endpoint.get("Aliases") or [] if a != short_id),
                          "ip": (endpoint.get("IPAMConfig") or {}).get("IPv4Address")}
    return {
        "image id": record.get("Image"),
        "environment": sorted(cfg.get("Env") or []),
        "command": [*(cfg.get("Entrypoint") or []), *(cfg.get("Cmd") or [])],
        "labels": dict(cfg.get("Labels") or {}),
        "user": cfg.get("User") or "", "working dir": cfg.get("WorkingDir") or "",
        "hostname": None if cfg.get("Hostname") in (None, short_id) else cfg.get("Hostname"),
        "healthcheck": cfg.get("Healthcheck"),
        "mounts": sorted((m.get("Type"), m.get("Name") or m.get("Source"), m.get("Destination"),
                          bool(m.get("RW"))) for m in record.get("Mounts") or []),
        "networks": networks,
        "ports": {p: sorted((b.get("HostIp") or "", b.get("HostPort") or "") for b in bs or [])
                  for p, bs in sorted((hc.get("PortBindings") or {}).items())},
        "restart policy": [(hc.get("RestartPolicy") or {}).get("Name") or "no",
                           (hc.get("RestartPolicy") or {}).get("MaximumRetryCount") or 0],
        "host config": {k: hc.get(k) for k in (
            "Privileged", "CapAdd", "CapDrop", "SecurityOpt", "ExtraHosts", "Dns", "LogConfig",
            "Memory", "NanoCpus", "Init", "ReadonlyRootfs", "Tmpfs", "Ulimits", "Sysctls",
            "ShmSize", "GroupAdd")},
    }


def differences(recorded: Mapping, restored: Mapping) -> list[str]:
    """What differs between a recorded container and its restoration, naming fields (and for
    environment and labels only the names, never a value)."""
    want, have = config_view(recorded), config_view(restored)
    name = recorded["Name"].lstrip("/")
    out = []
    for field in want:
        a, b = want[field], have[field]
        if field == "healthcheck":
            same = (a == b) or (a and b and healthcheck_equivalent(a.get("Test"), b.get("Test"))
                                and {k: v for k, v in a.items() if k != "Test"}
                                == {k: v for k, v in b.items() if k != "Test"})
            if not same:
                out.append(f"{name}: healthcheck differs")
        elif field == "environment" and a != b:
            names = sorted({e.partition("=")[0] for e in set(a) ^ set(b)})
            out.append(f"{name}: environment differs for {', '.join(names)}")
        elif field == "labels" and a != b:
            keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
            out.append(f"{name}: labels differ for {', '.join(keys)}")
        elif a != b:
            out.append(f"{name}: {field} differs: recorded {_show(a)}, restored {_show(b)}")
    return out


def _show(value) -> str:
    value = mask_deep(value)
    text = json.dumps(value, default=str) if not isinstance(value, list) or not all(
        isinstance(v, str) for v in value) else shlex.join(value)
    return text if len(text) < 200 else text[:197] + "..."
