"""The shape of one service's declaration (`ServiceSpec`) and its parts.

A spec says what the platform runs for a service and what it accepts from the stack file: its
image key, the port it listens on in its container, its health probe with its timings, the
variables the platform sets (a function of the stack's settings) and those an operator may not
override, the volumes it mounts, its public subdomain, and whether a setting enables it. Naming,
the settings model, the command builders, the components and the takeover's audit read these
objects; none of them lists services.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping

if TYPE_CHECKING:
    from config import validation as v
    from config.settings import Settings

# The one default of every health-check timing; a spec states only what differs.
DEFAULT_START_PERIOD = "60s"
DEFAULT_INTERVAL = "30s"
DEFAULT_TIMEOUT = "10s"
DEFAULT_RETRIES = 3
DEFAULT_START_INTERVAL = "2s"   # probe often while starting, so waits end early
# Containers the update waits on (database, Redis) probe often: without a start interval
# (meeshy:healthStartInterval off, engines older than Docker 25) the first probe only runs
# after one interval. Without it every container probes that often: Traefik ignores a container
# until its first probe passes, so a new gateway stayed unrouted (404) ~30 s after a switch.
WAITED_INTERVAL = "5s"

# How a service comes to run.
ALWAYS = "always"          # every stack
ADMIN_UIS = "adminUis"     # with meeshy:adminUis
SETTING = "setting"        # with meeshy:services.<name>.enabled (default false)


@dataclass(frozen=True)
class Probe:
    """A health check: an HTTP path on the service's port fetched with `tool` (the client its
    image ships), or a command the component gives; `waited`: the update waits on this
    container, so it probes often even without a start interval."""
    path: str | None = None
    tool: str = "curl"
    start_period: str = DEFAULT_START_PERIOD
    waited: bool = False


@dataclass(frozen=True)
class VolumeUse:
    """A volume the service mounts at `path`: its own (`owner`, named `meeshy-<stack>-<purpose>`)
    or another service's. `keep`: it holds data that must survive every update (protected,
    retained on delete). `audited`: today's compose production mounts it there, so the takeover's
    audit looks for it."""
    purpose: str
    path: str
    keep: bool = True
    owner: bool = True
    read_only: bool = False
    audited: bool = True


@dataclass(frozen=True)
class ServiceSpec:
    name: str                              # container suffix and naming key
    rank: int                              # order in every listing (data first)
    image: str | None = None               # key of meeshy:images
    image_default: str | None = None       # another image key used when this one is unset
    port: int | None = None                # where it listens inside its container
    health: Probe = Probe()
    subdomain: str | None = None           # public host `<subdomain>.<site>`
    maintained: bool = False               # the maintenance page answers its hosts
    volumes: tuple[VolumeUse, ...] = ()
    runs: str = ALWAYS                     # ALWAYS, ADMIN_UIS, SETTING or the service it serves
    # Platform-set variables: a function of the stack's settings, and every name it may set
    # (an operator's `env` of these names is refused).
    env: Callable[[Settings], dict[str, Any]] | None = None
    platform_env: frozenset[str] = frozenset()
    default_env: Mapping[str, str] = field(default_factory=dict)   # operator may override
    configurable: bool = False             # accepts meeshy:services.<name> (env, secrets, volumes)
    options: tuple[str, ...] = ()          # its own keys under meeshy:services.<name>
    parse_options: Callable[[dict, str, bool, v.Problems], dict[str, Any]] | None = None
    # What the service itself checks at start of a variable an operator gives by secretEnv: the
    # problem (never the value) or None, so a bad value is refused before a deploy, not at start.
    secret_env_checks: Mapping[str, Callable[[str], str | None]] = field(default_factory=dict)
    compose: str | None = None             # the compose service it replaces in production
    compose_required: bool = False         # the audit refuses a production without it
    # Application services (AppService): what they start after, their files and command.
    app: bool = False
    after: tuple[str, ...] = ()            # "data", "checked" or a service name
    files: Mapping[str, str] = field(default_factory=dict)
    command: tuple[str, ...] | None = None
    compress: bool = False                 # Traefik compresses its answers
    gated: bool = False                    # the release's health gate probes it

    @property
    def optional(self) -> bool:
        """Enabled by a setting of its own (or of the service it serves)."""
        return self.runs not in (ALWAYS, ADMIN_UIS)

    def health_url(self, host: str = "localhost") -> str:
        if self.port is None or self.health.path is None:
            raise ValueError(f"service {self.name} has no HTTP health endpoint")
        return f"http://{host}:{self.port}{self.health.path}"
