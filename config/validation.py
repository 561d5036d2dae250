"""Small validators for stack configuration. Each returns the cleaned value or records a problem
naming the full key path (`meeshy:images.gateway`) and what was expected; callers collect every
problem before failing so one run shows them all."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

_MISSING = object()
_DNS_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_IMAGE_PATH = re.compile(r"^[a-z0-9]+(?:[._-]+[a-z0-9]+|/[a-z0-9]+)*$")
_REGISTRY = re.compile(r"^[A-Za-z0-9.-]+(?::[0-9]+)?$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_SSH_HOST = re.compile(r"^ssh://[a-z_][a-z0-9_.-]*@[A-Za-z0-9.-]+(?::[0-9]{1,5})?$")
_HTPASSWD_ENTRY = re.compile(r"^[^:\s,]+:(\$apr1\$[./0-9A-Za-z]{1,8}\$[./0-9A-Za-z]{22}"
                             r"|\$2[aby]\$[0-9]{2}\$[./0-9A-Za-z]{53}|\{SHA\}[A-Za-z0-9+/]{27}=)$")
_FLOATING_TAGS = {"latest", "stable", "edge", "alpine", "slim", "main", "master", "nightly"}


class SettingsError(ValueError):
    """Every problem of a stack's configuration, found before any resource is registered: the
    one error of the settings model (config/stack_settings.py); a section's own error
    (config/release_settings.py's ReleaseConfigError) subclasses it."""

    def __init__(self, stack: str | None, problems: list[str]):
        self.stack = stack
        self.problems = list(problems)
        super().__init__(self.message())

    def message(self) -> str:
        n = len(self.problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        return (f"invalid configuration for stack {self.stack!r} "
                f"({n} problem{'s' if n != 1 else ''}):\n{lines}")


class Problems:
    """The one problem collector of both settings models (platform and release): one sentence per
    problem, each starting with its full key. A sentence already recorded is not repeated, so the
    keys both models read (their rules below) are named once when one collector serves both."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, key: str, message: str) -> None:
        self.add_sentence(f"{key}: {message}")

    def add_sentence(self, sentence: str) -> None:
        """A problem already worded with its key first (`meeshy:backup.retain must be ...`)."""
        if sentence not in self.items:
            self.items.append(sentence)

    def __iter__(self):
        return iter(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)


# What a secret reads as where only names matter (config/stack_settings.py offline_config):
# never checked as a value.
OFFLINE_PLACEHOLDER = "placeholder"


def is_secure(raw: Any) -> bool:
    """A stack file's encrypted value (`{secure: ...}`): only the Pulumi engine can decrypt it."""
    return isinstance(raw, dict) and set(raw) == {"secure"}


def decode(raw: Any) -> Any:
    """Structured config arrives from the engine as JSON text; tests may pass Python values."""
    if isinstance(raw, str) and raw[:1] in "{[":
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


def as_bool(raw: Any, key: str, default: bool, problems: Problems) -> bool:
    if raw is None:
        return default
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    problems.add(key, f"expected true or false, got {raw!r}")
    return default


def as_port(raw: Any, key: str, problems: Problems) -> int | None:
    if isinstance(raw, str) and raw.isdigit():
        raw = int(raw)
    if isinstance(raw, int) and not isinstance(raw, bool) and 1 <= raw <= 65535:
        return raw
    problems.add(key, f"expected a TCP port number between 1 and 65535, got {raw!r}")
    return None


def as_text(raw: Any, key: str, problems: Problems, pattern: str | None = None,
            expected: str = "a non-empty string") -> str | None:
    if isinstance(raw, str) and raw and (pattern is None or re.fullmatch(pattern, raw)):
        return raw
    problems.add(key, f"expected {expected}, got {raw!r}")
    return None


def as_mapping(raw: Any, key: str, problems: Problems) -> dict | None:
    raw = decode(raw)
    if raw is None:
        return {}
    if isinstance(raw, dict):
        return raw
    problems.add(key, f"expected a map (set it with `pulumi config set --path '{key}.<name>' ...`), "
                 f"got {raw!r}")
    return None


def unknown_keys(value: dict, allowed: set[str], key: str, problems: Problems) -> None:
    for name in sorted(set(value) - allowed):
        problems.add(f"{key}.{name}", f"unknown setting; expected one of {', '.join(sorted(allowed))}")


def domain_name(raw: Any, key: str, problems: Problems) -> str | None:
    if isinstance(raw, str) and _DNS_NAME.match(raw):
        return raw
    problems.add(key, f"expected a lowercase DNS name such as 'meeshy.me', got {raw!r}")
    return None


def image_problem(ref: str) -> str | None:
    """Why `ref` is not an image pinned to a version tag or a digest, or None when it is."""
    name, _, digest = ref.partition("@")
    if digest:
        if not _DIGEST.match(digest):
            return "its digest must be sha256: followed by 64 lowercase hex digits"
    last = name.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else None
    path = name[: len(name) - len(tag) - 1] if tag is not None else name
    parts = path.split("/")
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        if not _REGISTRY.match(parts[0]):
            return "its registry part is malformed"
        parts = parts[1:]
    if not _IMAGE_PATH.match("/".join(parts)):
        return "its repository part is malformed (lowercase letters, digits, '.', '_', '-', '/')"
    if digest:
        return None
    if tag is None:
        return "no tag means 'latest', which moves over time"
    if not _TAG.match(tag):
        return "its tag is malformed"
    if tag.lower() in _FLOATING_TAGS or not any(c.isdigit() for c in tag):
        return f"tag {tag!r} is not a version and moves over time"
    return None


def image_ref(raw: Any, key: str, problems: Problems) -> str | None:
    if isinstance(raw, str) and raw and image_problem(raw) is None:
        return raw
    why = image_problem(raw) if isinstance(raw, str) and raw else "it is empty or not a string"
    problems.add(key, f"expected an image pinned to a version tag or a digest, got {raw!r} ({why})")
    return None


def docker_host(raw: Any, key: str, problems: Problems) -> str | None:
    if isinstance(raw, str) and raw.startswith("unix:///") and " " not in raw:
        return raw
    if isinstance(raw, str) and _SSH_HOST.match(raw):
        return raw
    problems.add(key, "expected the local engine socket 'unix:///var/run/docker.sock' (or another "
                      f"unix:///path) or 'ssh://user@host[:port]', got {raw!r}")
    return None


def absolute_path(raw: Any, key: str, problems: Problems) -> str | None:
    if (isinstance(raw, str) and raw.startswith("/") and "\n" not in raw
            and ".." not in raw.split("/")):
        return raw.rstrip("/") or "/"
    problems.add(key, f"expected an absolute host path without '..', got {raw!r}")
    return None


def htpasswd_problem(value: str) -> str | None:
    """Hash-only check that never echoes the value: basic-auth users must be hashed entries."""
    entries = [e.strip() for e in value.split(",")]
    if not entries or not all(_HTPASSWD_ENTRY.match(e) for e in entries):
        return ("expected comma-separated htpasswd entries 'user:hash' with an apr1 ($apr1$), "
                "bcrypt ($2y$) or {SHA} hash, e.g. the output of `htpasswd -nbB user password` "
                "(the value is not shown because it is secret)")
    return None


def string_list(raw: Any, key: str, problems: Problems) -> tuple[str, ...] | None:
    raw = decode(raw)
    if raw is None:
        return None
    if isinstance(raw, list) and raw and all(isinstance(x, str) and x for x in raw):
        return tuple(raw)
    problems.add(key, f"expected a non-empty list of strings (an argument vector), got {raw!r}")
    return None


# The keys both settings models read (config/settings.py for the platform, config/release_settings.py
# for the release steps): one rule each, so a stack file gets the same verdict from both.
RELEASE_LABEL = r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}"
DATABASE_NAME = r"[A-Za-z0-9_-]{1,63}"
DEFAULT_RELEASE = "unreleased"
DEFAULT_DATABASE = "meeshy"


def release_label(raw: Any, key: str, problems: Problems) -> str | None:
    """`meeshy:release`: unset reads as 'unreleased'; at most 64 characters."""
    return as_text(DEFAULT_RELEASE if raw is None else raw, key, problems, RELEASE_LABEL,
                   "a release label (letters, digits, '.', '_', '+', '-'; at most 64)")


def database_name(raw: Any, key: str, problems: Problems) -> str | None:
    """`meeshy:database.name` (the database the services use)."""
    return as_text(raw, key, problems, DATABASE_NAME,
                   "a MongoDB database name (letters, digits, '_', '-')")


def live_database_name(raw_section: Any, key: str, problems: Problems) -> str | None:
    """`meeshy:database.name` read from the whole `meeshy:database` section; unset: 'meeshy'."""
    section = as_mapping(raw_section, key, problems)
    if section is None:
        return None
    return database_name(section.get("name", DEFAULT_DATABASE), f"{key}.name", problems)


def backup_dir(raw: Any, key: str, default: str, problems: Problems) -> str | None:
    """`meeshy:backupDir`: an absolute host path without '..', trailing '/' dropped."""
    return absolute_path(default if raw is None else raw, key, problems)


def maintenance_flag(raw: Any, key: str, problems: Problems) -> bool:
    """`meeshy:maintenance`: true or false, unset reads as false."""
    return as_bool(raw, key, False, problems)


@dataclass(frozen=True)
class Shared:
    """The keys both sections of a stack file read (platform and release), each read once by its
    rule; each section reports a key's problems where it reads the key (`report`), so either
    section alone names its problems in its own order, and both together name each once."""
    release: str | None
    live_database: str | None
    backup_dir: str | None
    maintenance: bool
    problems: dict = field(default_factory=dict, compare=False)   # key name -> sentences

    def report(self, problems: Problems, *names: str) -> None:
        for name in names:
            for sentence in self.problems.get(name, ()):
                problems.add_sentence(sentence)


def read_shared(source: Any, namespace: str, backup_root: str) -> Shared:
    """`release`, `database.name`, `backupDir` and `maintenance`, read once for both sections."""
    found: dict[str, list[str]] = {}

    def read(name: str, rule, *args):
        problems = Problems()
        value = rule(source.get(f"{namespace}:{name}"), f"{namespace}:{name}", *args, problems)
        found[name] = problems.items
        return value
    return Shared(release=read("release", release_label),
                  live_database=read("database", live_database_name),
                  backup_dir=read("backupDir", backup_dir, backup_root),
                  maintenance=read("maintenance", maintenance_flag), problems=found)
