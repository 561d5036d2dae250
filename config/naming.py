"""Every per-stack name, host and URL derives from here, so two stacks can never collide.

Docker names: network `meeshy-<stack>`, containers `meeshy-<stack>-<service>`, volumes
`meeshy-<stack>-<purpose>`. Public hosts: production serves `<sub>.<domain>` (web at the apex and
`www.`); every other stack serves `<sub>.<stack>.<domain>`, so staging is `*.staging.<domain>`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from config import services
from config.services import database, redis

PREFIX = "meeshy"
# The namespace of the stack file's keys (`meeshy:KEY`).
NS = "meeshy"
PRODUCTION = "production"

# Stack names become part of DNS labels and Docker names; 30 characters keeps
# `meeshy-<stack>-redis-ui` and `gate.<stack>.<domain>` comfortably within limits.
_STACK_NAME = re.compile(r"^[a-z](?:[a-z0-9-]{0,28}[a-z0-9])?$")

# Every name below derives from the service declarations (config/services/).
# Service key -> public subdomain (web is at the apex and `www.`).
SUBDOMAINS: dict[str, str] = services.subdomains()
SERVICES = services.names()
# Volume purpose -> holds data that must survive every update (protected, retained on delete).
VOLUMES: dict[str, bool] = services.volumes()
# Volumes only an optional service declares (meeshy:services.<service>.enabled).
OPTIONAL_VOLUMES = services.optional_volumes()

DATABASE_PORT = database.PORT
REDIS_PORT = redis.PORT
STACK_LABEL = "meeshy.stack"


# A stack named like one of production's subdomains would serve its web site at production's
# host (stack `gate` -> `gate.<domain>`): those names are refused.
RESERVED_STACK_NAMES = frozenset({*SUBDOMAINS.values(), "www"})

# Every stack keeps its backups in its own folder under this root (`<root>/<stack>/...`), so
# refresh-staging can find production's archives next to its own.
DEFAULT_BACKUP_ROOT = "/var/backups/meeshy"


def stack_name_error(stack: str) -> str | None:
    """Why `stack` cannot name a Meeshy stack, or None when it can."""
    if not isinstance(stack, str) or not _STACK_NAME.match(stack):
        return (f"stack name {stack!r} must be a lowercase DNS label: a-z, 0-9 and '-', "
                "starting with a letter, not ending with '-', at most 30 characters")
    if stack in RESERVED_STACK_NAMES:
        return (f"stack name {stack!r} is reserved: its hosts would be production's "
                f"{stack}.<domain>; reserved: {', '.join(sorted(RESERVED_STACK_NAMES))}")
    return None


# A rolling container's name ends in this many hex digits of its digest
# (components/platform/containers.py): no service is named so, so names stay unambiguous.
DIGEST_LENGTH = 8


def fixed_container_name(docker_name: str) -> str:
    """A container's fixed name (its network alias): a rolling container's Docker name without
    its digest, any other name as it is."""
    rolling = re.fullmatch(rf"({PREFIX}-.+)-[0-9a-f]{{{DIGEST_LENGTH}}}", docker_name)
    return rolling.group(1) if rolling else docker_name


def owned_by(stack: str, docker_name: str, kind: str) -> bool:
    """Whether a Docker name is exactly one this stack declares (a bare prefix check would let
    stack `a` claim `meeshy-a-mongo-...` of a stack named `a-mongo`)."""
    prefix = f"{PREFIX}-{stack}"
    if kind == "network":
        return docker_name == prefix
    if kind == "container":
        return any(n == f"{prefix}-{s}" for s in SERVICES
                   for n in (docker_name, fixed_container_name(docker_name)))
    return any(docker_name == f"{prefix}-{s}" for s in VOLUMES)


@dataclass(frozen=True)
class StackNames:
    stack: str
    domain: str

    def __post_init__(self) -> None:
        error = stack_name_error(self.stack)
        if error:
            raise ValueError(error)

    @property
    def is_production(self) -> bool:
        return self.stack == PRODUCTION

    @property
    def prefix(self) -> str:
        return f"{PREFIX}-{self.stack}"

    @property
    def network(self) -> str:
        return self.prefix

    def container(self, service: str) -> str:
        return f"{self.prefix}-{service}"

    def volume(self, purpose: str) -> str:
        return f"{self.prefix}-{purpose}"

    def router(self, service: str) -> str:
        """Traefik router/service/middleware names: per stack, since labels are global to an engine."""
        return f"{self.prefix}-{service}"

    @property
    def site_domain(self) -> str:
        return self.domain if self.is_production else f"{self.stack}.{self.domain}"

    def host(self, sub: str) -> str:
        return f"{sub}.{self.site_domain}"

    @property
    def web_hosts(self) -> tuple[str, str]:
        return (self.site_domain, f"www.{self.site_domain}")

    def hosts_of(self, service: str) -> tuple[str, ...]:
        if service == "web":
            return self.web_hosts
        if service in SUBDOMAINS:
            return (self.host(SUBDOMAINS[service]),)
        return ()

    @property
    def public_hosts(self) -> tuple[str, ...]:
        """Hosts the application serves; maintenance mode answers all of them."""
        return (*self.web_hosts, *(self.hosts_of(s.name)[0] for s in services.SPECS
                                   if s.maintained and s.subdomain))

    @property
    def database_host(self) -> str:
        return self.container("database")

    @property
    def replica_member(self) -> str:
        """The replica-set member is the stack's own database container, never a shared alias."""
        return f"{self.database_host}:{DATABASE_PORT}"

    def database_url(self, database: str, replica_set: str | None) -> str:
        url = f"mongodb://{self.replica_member}/{database}"
        return f"{url}?replicaSet={replica_set}" if replica_set else url

    @property
    def redis_url(self) -> str:
        return f"redis://{self.container('redis')}:{REDIS_PORT}"

    def url(self, host: str) -> str:
        return f"https://{host}"
