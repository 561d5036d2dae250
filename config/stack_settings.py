"""The one settings model of a stack file: every `meeshy:` key parsed once, into one problem
collector, raising one error type (`SettingsError`).

`parse_stack(stack, source)` reads the platform's sections (config/settings.py and the
sections of config/settings_sections.py and config/service_settings.py) and, when the stack
declares release steps, the release's (config/release_settings.py); the keys both read
(`release`, `backupDir`, `maintenance`, `database.name`) are read once here and handed to both.
A stack with `meeshy:externalDatabase` runs the release steps alone against that server (no
Docker platform, as tests/e2e/project does): only the release section applies to it.

The result keeps what the checks comparing stack files read even when the file has problems
(its ports, domain, adopted names and per-service settings), so ops/preflight.py and the policy
pack (policy/stack_files.py) read this object instead of parsing keys again.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from config import validation as v
from config.naming import DEFAULT_BACKUP_ROOT, NS
from config.release_settings import (
    ReleaseSettings,
    has_release_section,
    parse_release_settings,
    unknown_section_fields,
)
from config.service_settings import SECRETS_KEY, SERVICES_KEY, Services, secret_names
from config.settings import (
    SECRET_KEYS,
    ConfigSource,
    MappingSource,
    Settings,
    parse_platform,
    unknown_config_keys,
    unknown_key_message,
)
from config.settings_sections import Adopt, Ports
from config.validation import SettingsError

__all__ = ["StackSettings", "parse_stack", "load_stack", "SettingsError", "is_external"]


@dataclass(frozen=True)
class StackSettings:
    stack: str
    problems: tuple[str, ...]
    external: bool                          # meeshy:externalDatabase: no Docker platform
    platform: Settings | None = None        # None: external, or the file has problems
    release: ReleaseSettings | None = None  # None: no release section, or problems
    # Read even when the file has problems (the checks that compare stack files need them).
    domain: str | None = None
    ports: Ports | None = None
    adopt: Adopt = field(default_factory=Adopt)
    services: Services = field(default_factory=Services)


def is_external(source: Any) -> bool:
    return source.get(f"{NS}:externalDatabase") not in (None, "")


def parse_stack(stack: str, config: ConfigSource | Mapping[str, Any],
                problems: v.Problems | None = None, *,
                platform: bool | None = None) -> StackSettings:
    """Every problem of the stack's configuration recorded in `problems` (a new collector when
    None). `platform`: parse the platform's sections (default: unless the stack is external)."""
    problems = v.Problems() if problems is None else problems
    source = config if hasattr(config, "is_secret") else MappingSource(config)
    external = is_external(source)
    shared = v.read_shared(source, NS, DEFAULT_BACKUP_ROOT)
    sections: dict[str, Any] = {}
    settings = None
    if platform if platform is not None else not external:
        settings, sections = parse_platform(stack, source, problems, shared)
    else:
        for key in unknown_config_keys(source.keys() if hasattr(source, "keys") else ()):
            problems.add(key, unknown_key_message(key))
    release = None
    if external or has_release_section(source):
        release = parse_release_settings(stack, source, problems, shared=shared)
    for sentence in unknown_section_fields(source):
        problems.add_sentence(sentence)
    clean = not problems
    return StackSettings(
        stack=stack, problems=tuple(problems.items), external=external,
        platform=settings if clean else None, release=release if clean else None,
        domain=sections.get("domain"), ports=sections.get("ports"),
        adopt=sections.get("adopt") or Adopt(), services=sections.get("services") or Services())


# What an encrypted secret reads as where only names matter (offline_config).
PLACEHOLDER = v.OFFLINE_PLACEHOLDER


def offline_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """A stack file's configuration for reading what it declares without its secrets (the
    takeover's comparison needs names, never values): every secret key not set stands as an
    encrypted value, which the model accepts unread, and meeshy:serviceSecrets holds a
    placeholder for each entry meeshy:services names."""
    out = dict(config)
    for name in SECRET_KEYS:
        out.setdefault(f"{NS}:{name}", {"secure": PLACEHOLDER})
    named = secret_names(config.get(SERVICES_KEY))
    if named:
        out[SECRETS_KEY] = {name: PLACEHOLDER for name in sorted(named)}
    return out


def load_stack(stack: str, config: ConfigSource | Mapping[str, Any], *,
               platform: bool | None = None) -> StackSettings:
    """`parse_stack`, raising one SettingsError listing every problem."""
    parsed = parse_stack(stack, config, platform=platform)
    if parsed.problems:
        raise SettingsError(stack, list(parsed.problems))
    return parsed
