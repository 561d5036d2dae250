"""Isolation of two stacks, read from the engine while both run: what each stack's containers
use (their networks, volumes, published ports and Traefik router hosts) must not meet the
other's, and no container may be attached to the other stack's network."""
from __future__ import annotations

import re

from ops.rehearse import local_docker

_HOST = re.compile(r"Host\(`([^`]+)`\)")


def footprint(stack: str) -> dict[str, set[str]]:
    """Everything a stack's containers hold on the engine, as sets of names."""
    found = {"containers": set(local_docker.labelled("container", stack)),
             "networks": set(local_docker.labelled("network", stack)),
             "volumes": set(local_docker.labelled("volume", stack)),
             "attached": set(), "mounted": set(), "ports": set(), "hosts": set()}
    for name in found["containers"]:
        info = local_docker.inspect("container", name)
        found["attached"] |= set((info["NetworkSettings"].get("Networks") or {}))
        found["mounted"] |= {m["Name"] for m in info.get("Mounts") or [] if m.get("Type") == "volume"}
        bindings = info["HostConfig"].get("PortBindings") or {}
        found["ports"] |= {f"{b.get('HostIp') or '0.0.0.0'}:{b['HostPort']}"
                           for spec in bindings.values() for b in spec or [] if b.get("HostPort")}
        labels = info["Config"].get("Labels") or {}
        for key, value in labels.items():
            if key.startswith("traefik.http.routers.") and key.endswith(".rule"):
                found["hosts"] |= set(_HOST.findall(value))
    return found


def check(first: str, second: str) -> dict:
    """`shared`: what the two stacks have in common, per kind (all empty when isolated)."""
    a, b = footprint(first), footprint(second)
    shared = {
        "containers": a["containers"] & b["containers"],
        "volumes": (a["volumes"] | a["mounted"]) & (b["volumes"] | b["mounted"]),
        "networks": (a["networks"] | a["attached"]) & (b["networks"] | b["attached"]),
        "publishedPorts": _port_numbers(a["ports"]) & _port_numbers(b["ports"]),
        "routerHosts": a["hosts"] & b["hosts"],
    }
    kinds = ("containers", "volumes", "networks", "ports", "hosts")
    counts = {stack: {kind: len(found[kind]) for kind in kinds}
              for stack, found in ((first, a), (second, b))}
    return {"isolated": not any(shared.values()), "counts": counts,
            "shared": {kind: sorted(values) for kind, values in shared.items()},
            "hosts": {first: sorted(a["hosts"]), second: sorted(b["hosts"])},
            "ports": {first: sorted(a["ports"]), second: sorted(b["ports"])}}


def _port_numbers(bindings: set[str]) -> set[str]:
    # A port is taken on the host whatever address it is bound to.
    return {binding.rsplit(":", 1)[1] for binding in bindings}
