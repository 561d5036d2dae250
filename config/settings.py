"""Typed, validated settings of one stack, parsed once from its configuration (`meeshy:` keys).

`load_settings(stack, source)` is pure: `source` is any mapping of full keys (`meeshy:domain`) to
values, or a `ConfigSource` (config/pulumi_source.py reads Pulumi's config). Every
problem is collected and raised as one `SettingsError` before any resource exists.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping, Protocol

from config import naming
from config import services as service_specs
from config import validation as v
from config.docker_access import DockerSsh, parse_docker_ssh
from config.naming import DEFAULT_BACKUP_ROOT, NS
from config.secret import Secret
from config.service_settings import Services, parse_services
from config.settings_sections import (
    Acme,
    Adopt,
    Database,
    Images,
    Ports,
    RedisTuning,
    parse_acme,
    parse_adopt,
    parse_database,
    parse_images,
    parse_ports,
    parse_redis,
)

DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"
SECRET_KEYS = ("jwtSecret", "adminPassword", "meeshyPassword", "atabethPassword",
               "dashboardAuth", "adminUiAuth", "databasePassword")
PLAIN_KEYS = ("domain", "ports", "images", "adminUis", "protectData", "dockerHost", "dockerSsh",
              "pullImages", "database", "release", "maintenance", "backupDir", "adopt", "acme",
              "redis", "rehearsal", "services", "healthStartInterval")
# A structured secret key: the values secretEnv and secretFiles name (service_settings.py).
STRUCTURED_SECRET_KEYS = ("serviceSecrets",)
# Keys of sections parsed elsewhere (config/release_settings.py): known, not read here.
OTHER_SECTION_KEYS = ("migration", "backup", "healthGate", "externalDatabase", "tools")

__all__ = ["Settings", "Secrets", "Secret", "load_settings", "SettingsError", "Ports", "Images",
           "Database", "Adopt", "Acme", "RedisTuning", "ConfigSource", "MappingSource"]
SettingsError = v.SettingsError


class ConfigSource(Protocol):
    def get(self, key: str) -> Any: ...
    def is_secret(self, key: str) -> bool | None: ...
    def secret(self, key: str) -> Any: ...


class MappingSource:
    """Plain values (tests, stack files); `secret_keys=None` trusts every secret key as secret."""

    def __init__(self, values: Mapping[str, Any], secret_keys: set[str] | None = None):
        self.values, self.secret_keys = dict(values), secret_keys

    def get(self, key: str) -> Any:
        return self.values.get(key)

    def is_secret(self, key: str) -> bool | None:
        return None if self.secret_keys is None else key in self.secret_keys

    def secret(self, key: str) -> Any:
        return self.values.get(key)

    def keys(self):
        return self.values.keys()


@dataclass(frozen=True)
class Secrets:
    jwt_secret: Secret
    admin_password: Secret
    meeshy_password: Secret
    atabeth_password: Secret
    dashboard_auth: Secret          # htpasswd entries for the Traefik dashboard
    admin_ui_auth: Secret | None    # htpasswd entries for the admin UIs (required when enabled)
    database_password: Secret | None = None  # the database's login (a server that needs one)


@dataclass(frozen=True)
class Settings:
    stack: str
    domain: str
    ports: Ports
    images: Images
    admin_uis: bool
    protect_data: bool
    docker_host: str
    pull_images: bool
    database: Database
    release: str
    maintenance: bool
    backup_dir: str
    adopt: Adopt
    acme: Acme
    redis: RedisTuning
    rehearsal: bool
    secrets: Secrets
    services: Services = Services()
    docker_ssh: DockerSsh | None = None      # the key and known_hosts of an ssh:// docker_host
    # Docker engines before 25 (API < 1.44) refuse a health check's start interval outright.
    health_start_interval: bool = True

    @property
    def names(self) -> naming.StackNames:
        return naming.StackNames(self.stack, self.domain)

    @property
    def docker_socket(self) -> str:
        """The engine socket path on the Docker host, mounted into Traefik for its provider."""
        if self.docker_host.startswith("unix://"):
            return self.docker_host[len("unix://"):]
        return "/var/run/docker.sock"


def _key(name: str) -> str:
    return f"{NS}:{name}"


def _load_secret(source: ConfigSource, name: str, problems: v.Problems, check=None,
                 required: bool = True) -> Secret | None:
    key = _key(name)
    raw = source.get(key)
    if raw is None or raw == "":
        if required:
            problems.add(key, f"missing secret; set it with `pulumi config set --secret {key} ...`")
        return None
    if v.is_secure(raw):
        # Read from a stack file before any Pulumi call (ops): the value is present but only
        # the engine can decrypt it, so its content is checked when the program runs.
        return Secret(key, raw)
    if source.is_secret(key) is False:
        problems.add(key, "is stored in plain text; set it again with "
                          f"`pulumi config set --secret {key} ...`")
    if not isinstance(raw, str):
        problems.add(key, "expected a string secret")
        return None
    why = check(raw) if check else None
    if why:
        problems.add(key, why)
        return None
    return Secret(key, source.secret(key))


def _min_length(n: int):
    return lambda s: None if len(s) >= n else f"expected at least {n} characters (value not shown)"


def _url_safe_password(text: str) -> str | None:
    """A database URL carries it: characters a URL would need escaped are refused, not escaped."""
    if len(text) < 8:
        return "expected at least 8 characters (value not shown)"
    if not re.fullmatch(r"[A-Za-z0-9._~-]+", text):
        return "expected letters, digits, '.', '_', '~' or '-' only (value not shown)"
    return None


def _load_secrets(source: ConfigSource, admin_uis: bool, database: Database | None,
                  problems: v.Problems) -> Secrets:
    pw = _min_length(8)
    return Secrets(
        jwt_secret=_load_secret(source, "jwtSecret", problems, _min_length(32)),
        admin_password=_load_secret(source, "adminPassword", problems, pw),
        meeshy_password=_load_secret(source, "meeshyPassword", problems, pw),
        atabeth_password=_load_secret(source, "atabethPassword", problems, pw),
        dashboard_auth=_load_secret(source, "dashboardAuth", problems, v.htpasswd_problem),
        admin_ui_auth=_load_secret(source, "adminUiAuth", problems, v.htpasswd_problem,
                                   required=admin_uis),
        database_password=_load_secret(source, "databasePassword", problems, _url_safe_password,
                                       required=bool(database and database.needs_login)),
    )


def load_settings(stack: str, config: ConfigSource | Mapping[str, Any]) -> Settings:
    """The platform's settings alone, raising SettingsError (the whole stack file:
    config/stack_settings.py)."""
    problems = v.Problems()
    settings = parse_settings(stack, config, problems)
    if problems:
        raise SettingsError(stack, problems.items)
    return settings


def parse_settings(stack: str, config: ConfigSource | Mapping[str, Any],
                   problems: v.Problems) -> Settings | None:
    """The platform's settings, recording every problem in `problems`; None when there is any."""
    source = config if hasattr(config, "is_secret") else MappingSource(config)
    shared = v.read_shared(source, NS, DEFAULT_BACKUP_ROOT)
    return parse_platform(stack, source, problems, shared)[0]


def parse_platform(stack: str, source: ConfigSource, problems: v.Problems,
                   shared: v.Shared) -> tuple[Settings | None, dict[str, Any]]:
    """The platform's sections of a stack file whose shared keys `shared` holds: the Settings
    (None when `problems` holds any) and every section as parsed, for lenient readers."""
    stack_error = naming.stack_name_error(stack)
    if stack_error:
        problems.add("stack", stack_error)
    domain = _parse_domain(source, problems)
    flags = _parse_flags(stack, source, shared, problems)
    ports = parse_ports(source.get(_key("ports")), _key("ports"), stack == naming.PRODUCTION, problems)
    images = parse_images(source.get(_key("images")), _key("images"), flags["adminUis"], problems)
    database = parse_database(source.get(_key("database")), _key("database"), flags["rehearsal"],
                              problems)
    docker = _parse_docker_host(source, problems)
    docker_ssh = parse_docker_ssh(source.get(_key("dockerSsh")), _key("dockerSsh"), docker, problems)
    shared.report(problems, "release", "backupDir")
    adopt = parse_adopt(source.get(_key("adopt")), _key("adopt"), problems)
    acme = parse_acme(source.get(_key("acme")), _key("acme"), domain, problems)
    redis = parse_redis(source.get(_key("redis")), _key("redis"), problems)
    secrets = _load_secrets(source, flags["adminUis"], database, problems)
    services = parse_services(source, problems)
    if images:
        _check_optional_images(services, images, problems)
    for key in unknown_config_keys(source.keys() if hasattr(source, "keys") else ()):
        problems.add(key, unknown_key_message(key))
    sections = {"domain": domain, "ports": ports, "adopt": adopt, "services": services}
    if problems:
        return None, sections
    return Settings(
        stack=stack, domain=domain, ports=ports, images=images, admin_uis=flags["adminUis"],
        protect_data=flags["protectData"], docker_host=docker, pull_images=flags["pullImages"],
        database=database, release=shared.release, maintenance=shared.maintenance,
        backup_dir=shared.backup_dir, adopt=adopt, acme=acme, redis=redis,
        rehearsal=flags["rehearsal"], secrets=secrets, services=services,
        health_start_interval=flags["healthStartInterval"], docker_ssh=docker_ssh,
    ), sections


def _parse_domain(source: ConfigSource, problems: v.Problems) -> str | None:
    domain_raw = source.get(_key("domain"))
    if domain_raw is None:
        problems.add(_key("domain"), "missing; expected the public DNS domain, e.g. 'meeshy.me'")
        return None
    return v.domain_name(domain_raw, _key("domain"), problems)


# Flag key -> value when unset (meeshy:maintenance follows the rule shared with the release model).
_FLAGS = {"rehearsal": False, "adminUis": False, "protectData": True, "pullImages": True,
          "healthStartInterval": True}


def _parse_flags(stack: str, source: ConfigSource, shared: v.Shared,
                 problems: v.Problems) -> dict[str, bool]:
    """Every true/false key, by key; production keeps its data protected unless it is a rehearsal."""
    flags = {name: v.as_bool(source.get(_key(name)), _key(name), default, problems)
             for name, default in _FLAGS.items()}
    shared.report(problems, "maintenance")
    flags["maintenance"] = shared.maintenance
    if stack == naming.PRODUCTION and not flags["protectData"] and not flags["rehearsal"]:
        problems.add(_key("protectData"), "must be true on production (data volumes protected and "
                     "retained on delete); only a stack marked meeshy:rehearsal may turn it off")
    return flags


def _parse_docker_host(source: ConfigSource, problems: v.Problems) -> str | None:
    host_raw = source.get(_key("dockerHost"))
    return v.docker_host(DEFAULT_DOCKER_HOST if host_raw is None else host_raw,
                         _key("dockerHost"), problems)


def unknown_key_message(key: str) -> str:
    """Why an unknown key is refused; a dotted key is one flat key to Pulumi, never a path."""
    head, _, rest = key.partition(".")
    if rest and head in {_key(k) for k in (*PLAIN_KEYS, *OTHER_SECTION_KEYS)}:
        return (f"unknown setting; Pulumi reads a dotted key as one flat key: nest it as "
                f"{rest!r} under {head!r} (or use `pulumi config set --path`)")
    return "unknown setting; known settings are listed in docs/configuration.md"


def _check_optional_images(services: Services, images: Images, problems: v.Problems) -> None:
    """An enabled optional service needs its image (and the images of the services that run
    with it: coturn's certificate dumper)."""
    for spec in service_specs.optional():
        owner = spec.name if spec.runs == service_specs.SETTING else spec.runs
        if services.enabled(owner) and not images.by_key().get(spec.image):
            problems.add(_key(f"images.{spec.image}"), f"missing; meeshy:services.{owner}.enabled "
                         "is true and needs it (an image pinned to a version tag or a digest)")


def unknown_config_keys(keys) -> list[str]:
    """Keys in the `meeshy:` namespace that no setting reads (typos hide defaults otherwise)."""
    known = {_key(k) for k in (*PLAIN_KEYS, *SECRET_KEYS, *STRUCTURED_SECRET_KEYS,
                               *OTHER_SECTION_KEYS)}
    return sorted(k for k in keys if k.startswith(f"{NS}:") and k not in known)

