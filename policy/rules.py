"""The policy pack's rules as plain functions of resource properties, so each is unit-tested on
passing and failing resources without the CLI. A rule returns the list of its violations
(empty: compliant). Properties are the engine's camelCase inputs (`networksAdvanced`, ...).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from config import naming
from config.validation import image_problem

CONTAINER = "docker:index/container:Container"
VOLUME = "docker:index/volume:Volume"
NETWORK = "docker:index/network:Network"
REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage"
ADMIN_SERVICES = ("mongo-ui", "redis-ui")


@dataclass(frozen=True)
class StackFacts:
    """What a rule knows about the stack beyond one resource (from its stack file)."""
    stack: str
    declared_ports: frozenset[int] | None = None       # None: the stack file could not be read
    adopted_names: frozenset[str] = frozenset()        # existing volumes/networks taken over
    other_stacks_ports: Mapping[str, frozenset[int]] = field(default_factory=dict)
    # Host paths and existing volumes the stack file's meeshy:services mounts on purpose.
    declared_mounts: frozenset[str] = frozenset()

    @property
    def production(self) -> bool:
        return self.stack == naming.PRODUCTION


@dataclass(frozen=True)
class Res:
    type: str
    name: str
    props: Mapping[str, Any]
    protect: bool = False


def stack_of_urn(urn: str) -> str:
    return urn.split("::", 1)[0].rsplit(":", 1)[-1]


def _labels(props: Mapping[str, Any]) -> dict[str, str]:
    return {label.get("label"): label.get("value") for label in props.get("labels") or []}


_KINDS = {CONTAINER: "container", VOLUME: "volume", NETWORK: "network"}


def _own_name(name: str, kind: str, facts: StackFacts) -> bool:
    return naming.owned_by(facts.stack, name, kind) or name in facts.adopted_names


def names_prefixed_by_stack(res: Res, facts: StackFacts) -> list[str]:
    """Containers, volumes and networks carry the stack's prefix (adopted ones excepted)."""
    if res.type not in (CONTAINER, VOLUME, NETWORK):
        return []
    name = res.props.get("name")
    if not isinstance(name, str) or _own_name(name, _KINDS[res.type], facts):
        return []
    return [f"{res.type.rsplit(':', 1)[1]} {name!r} is not a name of stack {facts.stack!r} "
            f"(meeshy-{facts.stack}[-<service or volume>]): names derive from the stack so "
            "stacks never collide"]


def no_reference_to_other_stacks(res: Res, facts: StackFacts) -> list[str]:
    """A container joins only its stack's network and mounts only its stack's volumes."""
    if res.type != CONTAINER:
        return []
    problems = []
    network = f"{naming.PREFIX}-{facts.stack}"
    if res.props.get("networkMode") not in (None, "", "bridge", network):
        problems.append(f"container uses network mode {res.props['networkMode']!r}")
    for n in res.props.get("networksAdvanced") or []:
        if n.get("name") != network and n.get("name") not in facts.adopted_names:
            problems.append(f"container joins network {n.get('name')!r}, not its stack's {network!r}")
    for m in res.props.get("volumes") or []:
        volume, host = m.get("volumeName"), m.get("hostPath")
        if volume and not (_own_name(volume, "volume", facts) or volume in facts.declared_mounts):
            problems.append(f"container mounts volume {volume!r} of another deployment")
        if host and not ((host.endswith("docker.sock") and m.get("readOnly"))
                         or host in facts.declared_mounts):
            problems.append(f"container mounts host path {host!r} (only the Docker socket, "
                            "read-only, and the stack file's meeshy:services mounts are allowed)")
    return problems


def images_pinned_in_production(res: Res, facts: StackFacts) -> list[str]:
    if not facts.production:
        return []
    ref = res.props.get("image") if res.type == CONTAINER else (
        res.props.get("name") if res.type == REMOTE_IMAGE else None)
    if not isinstance(ref, str) or ref.startswith("sha256:"):
        return []  # not an image resource, or an image id (pinned by construction)
    why = image_problem(ref)
    return [f"image {ref!r} is not pinned ({why}); production runs version tags or digests"] if why else []


def data_volumes_protected(res: Res, facts: StackFacts) -> list[str]:
    """Production's data volumes are protected (the program also retains them on delete)."""
    if res.type != VOLUME or not facts.production:
        return []
    purpose = res.name[len(f"{naming.PREFIX}-{facts.stack}-"):]
    if (naming.VOLUMES.get(purpose) or res.props.get("name") in facts.adopted_names) and not res.protect:
        return [f"data volume {res.props.get('name')!r} is not protected"]
    return []


def admin_uis_behind_basic_auth(res: Res, facts: StackFacts) -> list[str]:
    """Admin UIs and the Traefik dashboard are routed only through a basic-auth middleware whose
    users come from a file."""
    if res.type != CONTAINER:
        return []
    labels = _labels(res.props)
    auth = {k.split(".")[3] for k in labels
            if k.startswith("traefik.http.middlewares.") and k.endswith(".basicauth.usersfile")
            and labels[k]}
    admin = labels.get("meeshy.service") in ADMIN_SERVICES
    # Users in a label are shown by `docker inspect` to anyone on the host: only a file will do.
    problems = [f"label {k!r} holds basic-auth users; name a file with basicauth.usersfile"
                for k in labels if k.startswith("traefik.http.middlewares.")
                and k.endswith(".basicauth.users")]
    for key, value in labels.items():
        parts = key.split(".")
        if len(parts) != 5 or parts[:3] != ["traefik", "http", "routers"] or parts[4] != "rule":
            continue
        router = parts[3]
        service = labels.get(f"traefik.http.routers.{router}.service")
        if not (admin or service == "api@internal") or labels.get("traefik.enable") != "true":
            continue
        middlewares = labels.get(f"traefik.http.routers.{router}.middlewares") or ""
        used = {m.split("@")[0] for m in middlewares.split(",") if m}
        if not used & auth:
            problems.append(f"router {router!r} ({value}) exposes an admin interface without basic auth")
    return problems


def no_published_data_ports_in_production(res: Res, facts: StackFacts) -> list[str]:
    if res.type != CONTAINER or not facts.production:
        return []
    if _labels(res.props).get("meeshy.service") == "traefik" or not res.props.get("ports"):
        return []
    return [f"production container {res.props.get('name')!r} publishes host ports "
            f"{sorted(int(p['external']) for p in res.props['ports'] if p.get('external'))}; "
            "only Traefik publishes ports on production"]


RESOURCE_RULES = {
    "meeshy-names-prefixed-by-stack": names_prefixed_by_stack,
    "meeshy-no-reference-to-other-stacks": no_reference_to_other_stacks,
    "meeshy-images-pinned-in-production": images_pinned_in_production,
    "meeshy-data-volumes-protected": data_volumes_protected,
    "meeshy-admin-uis-behind-basic-auth": admin_uis_behind_basic_auth,
    "meeshy-no-published-data-ports-in-production": no_published_data_ports_in_production,
}


def published_ports(resources: Iterable[Res]) -> list[tuple[int, str]]:
    return [(int(p["external"]), str(r.props.get("name")))
            for r in resources if r.type == CONTAINER
            for p in r.props.get("ports") or [] if p.get("external")]


def host_ports_isolated(resources: Sequence[Res], facts: StackFacts) -> list[str]:
    """No host port published twice, only declared ports, none declared by another stack."""
    problems, seen = [], {}
    for port, container in published_ports(resources):
        if port in seen:
            problems.append(f"host port {port} is published by both {seen[port]!r} and {container!r}")
        seen[port] = container
        if facts.declared_ports is not None and port not in facts.declared_ports:
            problems.append(f"{container!r} publishes host port {port}, which meeshy:ports of "
                            f"stack {facts.stack!r} does not declare")
        for other, ports in sorted(facts.other_stacks_ports.items()):
            if other != facts.stack and port in ports:
                problems.append(f"host port {port} ({container!r}) is also declared by stack {other!r}")
    return problems
