"""Per-service settings (`meeshy:services.<service>`): extra environment, secret environment,
secret files and extra volumes, whether an optional service runs, and the options a service's
declaration (config/services/) parses itself.

Secret values never sit in `meeshy:services` (a plain key): `secretEnv` and `secretFiles` name an
entry of `meeshy:serviceSecrets`, one structured secret key set entry by entry with
`pulumi config set --secret --path 'meeshy:serviceSecrets.<name>' ...`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from config import services
from config import validation as v
from config.secret import Secret

SERVICES_KEY = "meeshy:services"
SECRETS_KEY = "meeshy:serviceSecrets"
# Services that accept meeshy:services.<name>, the optional ones among them (`enabled`).
CONFIGURABLE = tuple(spec.name for spec in services.configurable())
OPTIONAL_SERVICES = tuple(spec.name for spec in services.configurable() if spec.optional)
APP_SERVICES = tuple(name for name in CONFIGURABLE if name not in OPTIONAL_SERVICES)
_ENV_NAME = r"[A-Z_][A-Z0-9_]*"
_SECRET_NAME = r"[A-Za-z][A-Za-z0-9_-]{0,63}"
_VOLUME_NAME = r"[A-Za-z0-9][A-Za-z0-9_.-]+"
# Names that carry credentials: a plain `env` value is stored in clear in the stack's config and
# state, so these must come through secretEnv.
_CREDENTIAL_NAME = re.compile(r"(SECRET|PASSWORD|TOKEN|API_KEY|PRIVATE_KEY|MASTER_KEY)")

# Values the services' own defaults get wrong (an operator may override each with `env`), and
# the variables the platform derives from the stack (names, URLs, seed users): an operator value
# would point a service at another stack or bypass a checked secret, so it is refused.
DEFAULT_ENV: dict[str, dict[str, str]] = {
    spec.name: dict(spec.default_env) for spec in services.SPECS if spec.default_env}
PLATFORM_ENV: dict[str, frozenset[str]] = {
    spec.name: spec.platform_env for spec in services.SPECS if spec.platform_env}


@dataclass(frozen=True)
class SecretFile:
    path: str                          # where the container reads it
    host_path: str | None = None       # bind-mounted read-only from the Docker host
    secret: Secret | None = None  # or uploaded from secret config, mode 0444
    env: str | None = None             # variable that receives `path`
    key: str = field(default="", compare=False)   # its config key, for errors


@dataclass(frozen=True)
class ExtraVolume:
    path: str
    host_path: str | None = None
    volume: str | None = None          # an existing Docker volume, never created or deleted here
    read_only: bool = False
    key: str = field(default="", compare=False)


@dataclass(frozen=True)
class ServiceSettings:
    env: Mapping[str, str] = field(default_factory=dict)
    secret_env: Mapping[str, Secret] = field(default_factory=dict)
    secret_files: tuple[SecretFile, ...] = ()
    volumes: tuple[ExtraVolume, ...] = ()
    enabled: bool = True
    options: Mapping[str, Any] = field(default_factory=dict)   # service-specific, parsed

    def environment(self) -> dict[str, Any]:
        """What this service adds to the platform's environment (secret values as Outputs)."""
        out: dict[str, Any] = dict(self.env)
        out.update({name: s.output() for name, s in self.secret_env.items()})
        out.update({f.env: f.path for f in self.secret_files if f.env})
        return out


@dataclass(frozen=True)
class Services:
    by_name: Mapping[str, ServiceSettings] = field(default_factory=dict)

    def of(self, service: str) -> ServiceSettings:
        return self.by_name.get(service) or ServiceSettings(
            env=dict(DEFAULT_ENV.get(service, {})), enabled=not services.by_name(service).optional)

    def enabled(self, service: str) -> bool:
        return self.of(service).enabled


class _Secrets:
    """meeshy:serviceSecrets, read once; records which entries a setting used."""

    def __init__(self, source, problems: v.Problems):
        self.problems, self.used = problems, set()
        raw = v.decode(source.get(SECRETS_KEY))
        self.values: dict = {}
        if raw is None:
            return
        if not isinstance(raw, dict):
            problems.add(SECRETS_KEY, "expected a map of named secrets; set each with `pulumi config "
                         f"set --secret --path '{SECRETS_KEY}.<name>' ...`")
            return
        if source.is_secret(SECRETS_KEY) is False:
            problems.add(SECRETS_KEY, "is stored in plain text; set its entries again with "
                         f"`pulumi config set --secret --path '{SECRETS_KEY}.<name>' ...`")
        self.values = raw

    def take(self, raw: Any, key: str) -> Secret | None:
        name = v.as_text(raw, key, self.problems, _SECRET_NAME,
                         f"the name of an entry of {SECRETS_KEY}")
        if name is None:
            return None
        value = self.values.get(name)
        if not isinstance(value, str) or not value:
            self.problems.add(key, f"refers to {SECRETS_KEY}.{name}, which is not set (or not a "
                              f"string); set it with `pulumi config set --secret --path "
                              f"'{SECRETS_KEY}.{name}' ...`")
            return None
        self.used.add(name)
        return Secret(f"{SECRETS_KEY}.{name}", value)

    def check_all_used(self) -> None:
        for name in sorted(set(self.values) - self.used):
            self.problems.add(f"{SECRETS_KEY}.{name}", "no meeshy:services setting uses this secret "
                              "(a typo in secretEnv or secretFiles would leave it unused)")


def secret_names(services: Any) -> set[str]:
    """Entries of meeshy:serviceSecrets a raw meeshy:services section names (offline runs put
    placeholders there)."""
    names: set[str] = set()
    services = v.decode(services)
    for spec in (services.values() if isinstance(services, dict) else ()):
        spec = spec if isinstance(spec, dict) else {}
        names.update(n for n in (spec.get("secretEnv") or {}).values() if isinstance(n, str))
        names.update(f["secret"] for f in spec.get("secretFiles") or []
                     if isinstance(f, dict) and isinstance(f.get("secret"), str))
        if isinstance(spec.get("authSecret"), str):
            names.add(spec["authSecret"])
    return names


def parse_services(source, problems: v.Problems) -> Services:
    """Every service's settings, defaults included; problems name the full key path."""
    raw = v.as_mapping(source.get(SERVICES_KEY), SERVICES_KEY, problems) or {}
    v.unknown_keys(raw, set(CONFIGURABLE), SERVICES_KEY, problems)
    secrets = _Secrets(source, problems)
    parsed = {name: _service(name, raw.get(name), f"{SERVICES_KEY}.{name}", secrets, problems)
              for name in CONFIGURABLE}
    secrets.check_all_used()
    return Services(parsed)


def _service(name: str, raw: Any, key: str, secrets: _Secrets, problems: v.Problems):
    spec = services.by_name(name)
    value = v.as_mapping(raw, key, problems) or {}
    optional = spec.optional
    allowed = {"env", "secretEnv", "secretFiles", "volumes", *spec.options}
    v.unknown_keys(value, allowed | ({"enabled"} if optional else set()), key, problems)
    enabled = v.as_bool(value.get("enabled"), f"{key}.enabled", not optional, problems)
    env = {**DEFAULT_ENV.get(name, {}), **_env(value.get("env"), f"{key}.env", name, problems)}
    secret_env = _secret_env(value.get("secretEnv"), f"{key}.secretEnv", name, secrets, problems)
    for clash in sorted(set(env) & set(secret_env)):
        problems.add(f"{key}.secretEnv.{clash}", f"is also set in {key}.env; keep one")
    files = _secret_files(value.get("secretFiles"), f"{key}.secretFiles", name, secrets, problems)
    for f in files:
        if f.env and (f.env in env or f.env in secret_env):
            problems.add(f"{key}.secretFiles", f"{f.env} is also set in {key}.env or secretEnv")
    volumes = _volumes(value.get("volumes"), f"{key}.volumes", problems)
    seen: set[str] = set()
    for mount in (*files, *volumes):
        if mount.path in seen:
            problems.add(f"{mount.key}.path", f"{mount.path} is already mounted by another entry "
                         f"of {key}")
        seen.add(mount.path)
    options = spec.parse_options(value, key, enabled, problems) if spec.parse_options else {}
    if options.get("auth_secret") is not None:   # a secret reference, resolved like secretEnv
        options["auth_secret"] = secrets.take(options["auth_secret"], f"{key}.authSecret")
    return ServiceSettings(env, secret_env, files, volumes, enabled, options)


def _env_name(name: Any, key: str, service: str, problems: v.Problems) -> bool:
    if not isinstance(name, str) or not re.fullmatch(_ENV_NAME, name):
        problems.add(key, "expected an environment variable name (A-Z, 0-9, '_')")
        return False
    if name in PLATFORM_ENV.get(service, ()):
        problems.add(key, f"{name} is set by the platform from the stack's names and secrets; "
                     "it cannot be overridden")
        return False
    return True


def _env(raw: Any, key: str, service: str, problems: v.Problems) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in (v.as_mapping(raw, key, problems) or {}).items():
        if not _env_name(name, f"{key}.{name}", service, problems):
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, (int, float)):
            value = str(value)
        if not isinstance(value, str):
            problems.add(f"{key}.{name}", f"expected a string, number or boolean, got {value!r}")
            continue
        if _CREDENTIAL_NAME.search(name):
            problems.add(f"{key}.{name}", "looks like a credential (value not shown): set it with "
                         f"{key.rsplit('.', 1)[0]}.secretEnv, so it stays encrypted")
            continue
        out[name] = value
    return out


def _secret_env(raw, key, service, secrets: _Secrets, problems) -> dict[str, Secret]:
    out: dict[str, Secret] = {}
    checks = services.by_name(service).secret_env_checks
    for name, ref in (v.as_mapping(raw, key, problems) or {}).items():
        if _env_name(name, f"{key}.{name}", service, problems):
            found = secrets.take(ref, f"{key}.{name}")
            # An offline read (names only, config/stack_settings.py) holds no value to check.
            why = (checks[name](found.value) if found and name in checks
                   and found.value != v.OFFLINE_PLACEHOLDER else None)
            if why:
                problems.add(found.key, f"{why} (given to {service} as {name})")
            elif found:
                out[name] = found
    return out


def _mount_items(raw: Any, key: str, source: str, what: str, allowed: set[str],
                 problems: v.Problems):
    """(item key, item, container path, host path) of each well-formed entry of a list of
    mounts whose origin is exactly one of `source` and `hostPath`."""
    raw = v.decode(raw)
    if raw is not None and not isinstance(raw, list):
        problems.add(key, f"expected a list of maps, got {raw!r}")
        return
    for i, item in enumerate(raw or []):
        ikey = f"{key}[{i}]"
        item = v.as_mapping(item, ikey, problems)
        if item is None:
            continue
        v.unknown_keys(item, {"path", source, "hostPath", *allowed}, ikey, problems)
        path = _container_path(item.get("path"), f"{ikey}.path", problems)
        if (source in item) == ("hostPath" in item):
            problems.add(ikey, f"expected exactly one of '{source}' ({what}) and 'hostPath' (a "
                         "path on the Docker host)")
            continue
        host = (v.absolute_path(item["hostPath"], f"{ikey}.hostPath", problems)
                if "hostPath" in item else None)
        yield ikey, item, path, host


def _container_path(raw: Any, key: str, problems: v.Problems) -> str | None:
    if (isinstance(raw, str) and re.fullmatch(r"(/[^/\s]+)+", raw)
            and ".." not in raw.split("/")):
        return raw
    problems.add(key, f"expected an absolute path inside the container (not /, no '..'), got {raw!r}")
    return None


def _secret_files(raw, key, service, secrets: _Secrets, problems) -> tuple[SecretFile, ...]:
    out = []
    for ikey, item, path, host in _mount_items(raw, key, "secret", f"an entry of {SECRETS_KEY}",
                                               {"env"}, problems):
        secret = secrets.take(item["secret"], f"{ikey}.secret") if "secret" in item else None
        env = item.get("env")
        if env is not None and not _env_name(env, f"{ikey}.env", service, problems):
            env = None
        if path and (secret or host):
            out.append(SecretFile(path, host, secret, env, ikey))
    return tuple(out)


def _volumes(raw: Any, key: str, problems: v.Problems) -> tuple[ExtraVolume, ...]:
    out = []
    for ikey, item, path, host in _mount_items(raw, key, "volume", "an existing Docker volume",
                                               {"readOnly"}, problems):
        read_only = v.as_bool(item.get("readOnly"), f"{ikey}.readOnly", False, problems)
        volume = (v.as_text(item["volume"], f"{ikey}.volume", problems, _VOLUME_NAME,
                            "a Docker volume name") if "volume" in item else None)
        if path and (volume or host):
            out.append(ExtraVolume(path, host, volume, read_only, ikey))
    return tuple(out)
