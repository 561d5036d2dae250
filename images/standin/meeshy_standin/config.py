"""What a stand-in process is, read from its environment once at start.

The real images are configured by environment (config/service_settings.py); the stand-ins read the
same variables so the components give them exactly what they give the real services. Only
MEESHY_STANDIN_ROLE and MEESHY_SCHEMA are the stand-ins' own, and both are baked into each
image tag so a deployment sets nothing extra."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from .preflight import missing_env, secret_paths

ROLES = {"translator": 8000, "gateway": 3000, "web": 3100, "agent": 3200}
SCHEMAS = ("legacy", "target")


class ConfigError(ValueError):
    """A variable is missing or malformed; the message names it."""


def port_from_env(role: str, env: Mapping[str, str]) -> int:
    """PORT, or FASTAPI_PORT for the translator (the variable the real one reads), or the
    role's real port."""
    name = "FASTAPI_PORT" if role == "translator" and env.get("FASTAPI_PORT") else "PORT"
    raw = env.get(name, str(ROLES[role]))
    try:
        port = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
    if not 0 < port < 65536:
        raise ConfigError(f"{name} must be in 1..65535, got {port}")
    return port


@dataclass(frozen=True)
class Config:
    role: str
    port: int
    schema: str = "target"
    database_url: str | None = None
    translator_url: str = "http://translator:8000"
    backend_url: str = "http://gateway:3000"
    # Lets a rehearsal deploy a release that never becomes healthy, to prove the rollback.
    force_unhealthy: bool = False
    # Bounds every probe so a health answer never hangs behind a dead dependency.
    probe_timeout: float = 2.0
    # Required variables that are unset, and the secret files to check at each health answer.
    missing_env: tuple[str, ...] = ()
    secret_files: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "Config":
        role = env.get("MEESHY_STANDIN_ROLE", "")
        if role not in ROLES:
            raise ConfigError(f"MEESHY_STANDIN_ROLE must be one of {sorted(ROLES)}, got {role!r}")
        schema = env.get("MEESHY_SCHEMA", "target")
        if schema not in SCHEMAS:
            raise ConfigError(f"MEESHY_SCHEMA must be one of {list(SCHEMAS)}, got {schema!r}")
        port = port_from_env(role, env)
        database_url = env.get("DATABASE_URL") or None
        if role in ("gateway", "translator") and not database_url:
            raise ConfigError(f"DATABASE_URL is required for the {role} (mongodb://host:port/db)")
        flag = env.get("STANDIN_FORCE_UNHEALTHY", "").lower()
        return cls(role=role, port=port, schema=schema, database_url=database_url,
                   translator_url=env.get("TRANSLATOR_URL") or cls.translator_url,
                   backend_url=env.get("INTERNAL_BACKEND_URL") or cls.backend_url,
                   force_unhealthy=flag in ("1", "true", "yes"),
                   missing_env=missing_env(role, env), secret_files=secret_paths(env))
