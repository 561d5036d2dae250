"""The structured sections of a stack's settings (`meeshy:ports`, `meeshy:images`, ...) and their
parsers. Each parser records problems under the full key path and returns a frozen value."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from config import naming, services
from config import validation as v


@dataclass(frozen=True)
class Ports:
    http: int
    https: int
    database: int | None = None   # published MongoDB port; never on production
    redis: int | None = None      # published Redis port; never on production

    @property
    def published(self) -> tuple[int, ...]:
        return tuple(p for p in (self.http, self.https, self.database, self.redis) if p is not None)


def _attr(key: str) -> str:
    """`mongoUi` -> `mongo_ui`: the attribute an image key reads as."""
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), key)


# meeshy:images key -> attribute, from the service declarations (config/services/).
IMAGE_KEYS = {key: _attr(key) for key in services.image_keys()}
# Images not every stack runs: required by the setting that enables them, or defaulting to
# another image (the maintenance page to the static image, an nginx).
OPTIONAL_IMAGES = tuple(s.image for s in services.SPECS
                        if s.image and (s.runs != services.ALWAYS or s.image_default))


@dataclass(frozen=True)
class Images:
    """The pinned image of every service this stack runs, by meeshy:images key; read one as an
    attribute (`images.gateway`, `images.mongo_ui`), None when the stack does not run it."""
    refs: Mapping[str, str] = field(default_factory=dict)

    def __getattr__(self, attr: str) -> str | None:
        keys = {a: k for k, a in IMAGE_KEYS.items()}
        if attr not in keys:
            raise AttributeError(attr)
        return self.refs.get(keys[attr])

    def by_key(self) -> dict[str, str]:
        """Config key -> reference, for the images this stack runs."""
        return {k: self.refs[k] for k in IMAGE_KEYS if self.refs.get(k)}


@dataclass(frozen=True)
class ReplicaSet:
    enabled: bool = True
    name: str = "rs0"


# meeshy:database.server -> what the stack's database image is. mongo: MongoDB itself
# (production); the others are rehearsal stand-ins speaking MongoDB's protocol: ferretdb (v1,
# SQLite, no login) and documentdb (PostgreSQL with DocumentDB behind its gateway: filters,
# $lookup and transactions, a SCRAM login from meeshy:databasePassword).
SERVERS = ("mongo", "ferretdb", "documentdb")


@dataclass(frozen=True)
class Database:
    name: str = "meeshy"                       # the database the services use; the switch flips it
    replica_set: ReplicaSet = ReplicaSet()
    command: tuple[str, ...] | None = None     # overrides `mongod --replSet ...` (rehearsal images)
    healthcheck: tuple[str, ...] | None = None  # overrides the mongosh ping probe
    server: str = "mongo"

    @property
    def needs_login(self) -> bool:
        """Clients authenticate (a user and password in the URL)."""
        return self.server == "documentdb"


@dataclass(frozen=True)
class AdoptedNetwork:
    name: str
    import_id: str


@dataclass(frozen=True)
class Adopt:
    volumes: Mapping[str, str] = field(default_factory=dict)   # purpose -> existing volume name
    networks: Mapping[str, AdoptedNetwork] = field(default_factory=dict)  # "main" -> network


@dataclass(frozen=True)
class Acme:
    email: str
    ca_server: str | None = None
    enabled: bool = True    # off: no ACME resolver, Traefik serves its default certificate


@dataclass(frozen=True)
class RedisTuning:
    max_memory: str = "2gb"
    max_memory_policy: str = "volatile-lru"


def parse_ports(raw: Any, key: str, production: bool, problems: v.Problems) -> Ports | None:
    value = v.as_mapping(raw, key, problems)
    if value is None:
        return None
    v.unknown_keys(value, {"http", "https", "database", "redis"}, key, problems)
    found: dict[str, int | None] = {}
    for name in ("http", "https", "database", "redis"):
        if value.get(name) is None:
            if name in ("http", "https"):
                problems.add(f"{key}.{name}", "missing; expected the host port Traefik publishes "
                             f"for {name.upper()} (each stack on a host needs its own)")
            found[name] = None
            continue
        found[name] = v.as_port(value[name], f"{key}.{name}", problems)
        if production and name in ("database", "redis"):
            problems.add(f"{key}.{name}", "production never publishes its database or Redis "
                         "port; remove this setting")
    taken: dict[int, str] = {}
    for name, port in found.items():
        if port is not None and port in taken:
            problems.add(f"{key}.{name}", f"port {port} is already used by {key}.{taken[port]}")
        elif port is not None:
            taken[port] = name
    if found.get("http") is None or found.get("https") is None:
        return None
    return Ports(**found)


def parse_images(raw: Any, key: str, admin_uis: bool, problems: v.Problems) -> Images | None:
    value = v.as_mapping(raw, key, problems)
    if value is None:
        return None
    v.unknown_keys(value, set(IMAGE_KEYS), key, problems)
    refs: dict[str, str | None] = {}
    required = [s.image for s in services.SPECS if s.image and (
        (s.runs == services.ALWAYS and not s.image_default)
        or (s.runs == services.ADMIN_UIS and admin_uis))]
    for cfg_key in IMAGE_KEYS:
        if value.get(cfg_key) is None:
            if cfg_key in required:
                problems.add(f"{key}.{cfg_key}", "missing; expected an image pinned to a version "
                             "tag or a digest, e.g. 'isopen/meeshy-gateway:1.0.0'")
            refs[cfg_key] = None
            continue
        refs[cfg_key] = v.image_ref(value[cfg_key], f"{key}.{cfg_key}", problems)
    if any(refs[k] is None for k in required):
        return None
    for spec in services.SPECS:
        if spec.image and spec.image_default:
            refs[spec.image] = refs[spec.image] or refs[spec.image_default]
        if spec.image and spec.runs == services.ADMIN_UIS and not admin_uis:
            refs[spec.image] = None
    return Images({k: r for k, r in refs.items() if r})


def parse_database(raw: Any, key: str, rehearsal: bool, problems: v.Problems) -> Database | None:
    value = v.as_mapping(raw, key, problems)
    if value is None:
        return None
    v.unknown_keys(value, {"name", "replicaSet", "command", "healthcheck", "server"}, key, problems)
    name = v.database_name(value.get("name", v.DEFAULT_DATABASE), f"{key}.name", problems)
    server = _parse_server(value.get("server", "mongo"), f"{key}.server", rehearsal, problems)
    rs_raw = v.as_mapping(value.get("replicaSet"), f"{key}.replicaSet", problems)
    rs = ReplicaSet()
    if rs_raw is not None:
        v.unknown_keys(rs_raw, {"enabled", "name"}, f"{key}.replicaSet", problems)
        enabled = v.as_bool(rs_raw.get("enabled"), f"{key}.replicaSet.enabled", True, problems)
        if not enabled and not rehearsal:
            problems.add(f"{key}.replicaSet.enabled", "false is a rehearsal-only setting (a single "
                         "node without rs.initiate, e.g. FerretDB); set meeshy:rehearsal: true too")
        rs_name = v.as_text(rs_raw.get("name", "rs0"), f"{key}.replicaSet.name", problems,
                            r"[A-Za-z0-9_-]{1,63}", "a replica-set name such as 'rs0'")
        rs = ReplicaSet(enabled, rs_name or "rs0")
    command = v.string_list(value.get("command"), f"{key}.command", problems)
    healthcheck = v.string_list(value.get("healthcheck"), f"{key}.healthcheck", problems)
    if server == "documentdb" and rs.enabled:
        problems.add(f"{key}.replicaSet.enabled", "documentdb has no replica set to initiate (its "
                     "gateway answers as a mongos); set it to false")
    return Database(name or "meeshy", rs, command, healthcheck, server or "mongo")


def _parse_server(raw: Any, key: str, rehearsal: bool, problems: v.Problems) -> str | None:
    if raw not in SERVERS:
        problems.add(key, f"expected one of {', '.join(SERVERS)}, got {raw!r}")
        return None
    if raw != "mongo" and not rehearsal:
        problems.add(key, f"{raw} is a rehearsal-only server (production runs mongo); set "
                     "meeshy:rehearsal: true too")
    return raw


def parse_adopt(raw: Any, key: str, problems: v.Problems) -> Adopt:
    value = v.as_mapping(raw, key, problems) or {}
    v.unknown_keys(value, {"volumes", "networks"}, key, problems)
    volumes_raw = v.as_mapping(value.get("volumes"), f"{key}.volumes", problems) or {}
    volumes: dict[str, str] = {}
    for purpose, existing in volumes_raw.items():
        vkey = f"{key}.volumes.{purpose}"
        if purpose not in naming.VOLUMES:
            problems.add(vkey, f"unknown volume; expected one of {', '.join(naming.VOLUMES)}")
        elif v.as_text(existing, vkey, problems, r"[A-Za-z0-9][A-Za-z0-9_.-]+",
                       "the name of an existing Docker volume (from `docker volume ls`)"):
            # One volume under two purposes would be imported twice and mounted as both.
            taken_by = next((p for p, name in volumes.items() if name == existing), None)
            if taken_by:
                problems.add(vkey, f"volume {existing!r} is already adopted as '{taken_by}'; "
                             "each existing volume can be adopted for one purpose only")
            else:
                volumes[purpose] = existing
    networks_raw = v.as_mapping(value.get("networks"), f"{key}.networks", problems) or {}
    networks: dict[str, AdoptedNetwork] = {}
    for logical, existing in networks_raw.items():
        nkey = f"{key}.networks.{logical}"
        if logical != "main":
            problems.add(nkey, "unknown network; the only network of a stack is 'main'")
            continue
        if isinstance(existing, str):
            existing = {"name": existing}
        if not isinstance(existing, dict) or not isinstance(existing.get("name"), str):
            problems.add(nkey, "expected a network name, or {name, id} with the id from "
                         f"`docker network inspect -f '{{{{.Id}}}}' NAME`, got {existing!r}")
            continue
        networks[logical] = AdoptedNetwork(existing["name"], str(existing.get("id") or existing["name"]))
    return Adopt(volumes, networks)


def parse_acme(raw: Any, key: str, domain: str | None, problems: v.Problems) -> Acme:
    value = v.as_mapping(raw, key, problems) or {}
    v.unknown_keys(value, {"email", "caServer", "enabled"}, key, problems)
    email = v.as_text(value.get("email", f"admin@{domain or 'example.invalid'}"), f"{key}.email",
                      problems, r"[^@\s]+@[^@\s]+\.[^@\s]+", "an e-mail address for Let's Encrypt")
    ca = value.get("caServer")
    if ca is not None:
        ca = v.as_text(ca, f"{key}.caServer", problems, r"https://\S+", "an https:// ACME directory URL")
    enabled = value.get("enabled", True)
    if not isinstance(enabled, bool):
        problems.add(f"{key}.enabled", f"expected true or false, got {enabled!r}")
        enabled = True
    return Acme(email or "", ca, enabled)


def parse_redis(raw: Any, key: str, problems: v.Problems) -> RedisTuning:
    value = v.as_mapping(raw, key, problems) or {}
    v.unknown_keys(value, {"maxMemory", "maxMemoryPolicy"}, key, problems)
    mem = v.as_text(value.get("maxMemory", "2gb"), f"{key}.maxMemory", problems,
                    r"[0-9]+(b|kb|mb|gb)?", "a Redis memory size such as '2gb'")
    policy = v.as_text(value.get("maxMemoryPolicy", "volatile-lru"), f"{key}.maxMemoryPolicy",
                       problems, r"(volatile|allkeys)-(lru|lfu|random|ttl)|noeviction|volatile-ttl",
                       "a Redis eviction policy such as 'volatile-lru'")
    return RedisTuning(mem or "2gb", policy or "volatile-lru")
