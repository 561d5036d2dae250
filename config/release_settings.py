"""Typed settings of a release: backup, data migration and health gate.

The platform's own keys (`release`, `database.name`, `maintenance`, `backupDir`) are read
here too, by the rules config/settings.py applies to them (config/validation.py, one rule per
key), because the release steps need them even when no platform is declared (external-database
mode); `parse_release_settings` records into a collector the platform's parser may share.
Everything is parsed once from plain values, so the Pulumi program and ops/ (which reads
configuration out of the stack file or the stack's history) get the same validated object.
Errors name the full key.

Keys of this section (namespace = the project name, `meeshy`):
    migration.sourceDatabase   legacy database the migration reads (never written)
    migration.targetDatabase   database the migration writes, beside the legacy one
    migration.toStep           optional: stop the chain at this step
    migration.pass             set by `ops switch`: a new value runs the migration again (delta)
    migration.liveSource       set by `ops switch` for its pre-copy pass: the source still takes
                               writes, so the run verifies what it read (`run --live-source`)
    migration.window           set by `ops switch` for its delta pass, in the update that moves
                               the services onto the target under maintenance: the pass runs
                               there, before any of their new containers starts (needs
                               maintenance on, the services on the target, liveSource false)
    migration.timeoutSeconds   bound on one migration run (default 480)
    migration.decisions        the operators' decisions {notifications: drop|migrate,
                               readStatuses: migrate|drop}; unset ones take the operators' choice
    backup.retain              archives kept per stack and database (default 10)
    backup.timeoutSeconds      bound on one dump (default 300)
    backup.pass                set by `ops switch`: a new value takes a backup (no migration)
    healthGate.deadlineSeconds / intervalSeconds / endpoints {name: url}
    externalDatabase.uri       external mode: the server (no Docker), e.g. mongodb://127.0.0.1:27017
    tools.image                Docker mode: image with this repository, runs migration and gate
                               inside the stack's network
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from config import validation as v
from config.naming import DEFAULT_BACKUP_ROOT, NS
from config.release_decisions import OPERATORS_DECISIONS, read_decisions
from config.validation import Problems, decode, image_problem, unknown_keys

# The same database-name rule as meeshy:database.name (config/validation.py).
_DATABASE_NAME = re.compile(rf"^{v.DATABASE_NAME}\Z")
_PASS_ID = re.compile(r"^[A-Za-z0-9._:-]{0,80}$")
_SERVICE_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}$")


class ReleaseConfigError(v.SettingsError):
    """The release section's values are missing or invalid; each problem names the full key."""

    def __init__(self, problems: str | list[str], stack: str | None = None):
        super().__init__(stack, [problems] if isinstance(problems, str) else list(problems))

    def message(self) -> str:
        lines = "\n".join(f"  - {p}" for p in self.problems)
        return (self.problems[0] if len(self.problems) == 1 else
                f"{len(self.problems)} problems in the release settings:\n{lines}")


@dataclass(frozen=True)
class MigrationSettings:
    source_database: str
    target_database: str
    to_step: str | None = None
    pass_id: str = ""
    timeout_seconds: int = 480
    live_source: bool = False
    window: bool = False      # the switch's delta pass in the update moving the services on
    # The chain's option name (migration/meeshy/decisions.py) -> chosen value, every decision.
    decisions: Mapping[str, str] = field(default_factory=lambda: dict(OPERATORS_DECISIONS))


@dataclass(frozen=True)
class BackupSettings:
    directory: str
    retain: int = 10
    timeout_seconds: int = 300
    pass_id: str = ""


@dataclass(frozen=True)
class HealthSettings:
    deadline_seconds: int = 120
    interval_seconds: float = 1.0
    endpoints: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ReleaseSettings:
    stack: str
    release: str
    live_database: str          # database.name: the database the services use
    maintenance: bool
    backup: BackupSettings
    health: HealthSettings
    migration: MigrationSettings | None = None
    external_uri: str | None = None     # set: external mode (no Docker)
    tools_image: str | None = None

    @property
    def external(self) -> bool:
        return self.external_uri is not None

    @property
    def migrates_live_database(self) -> bool:
        """The migration would write the database the services use: never allowed, but in a
        switch's window update (`migration.window`), before their containers start on it."""
        return self.migration is not None and self.migration.target_database == self.live_database

    @property
    def migrates_in_window(self) -> bool:
        return self.migration is not None and self.migration.window


class _Reader:
    """Reads `namespace:head.rest` paths from a source keyed by full keys (`meeshy:database`).
    A bad value is recorded in `problems` and read as its default, so one pass finds them all."""

    def __init__(self, namespace: str, source: Any, problems: Problems | None = None):
        self.namespace = namespace
        self.source = source
        self.problems = Problems() if problems is None else problems

    def key(self, path: str) -> str:
        return f"{self.namespace}:{path}"

    def fail(self, message: str, value: Any = None) -> Any:
        self.problems.add_sentence(message)
        return value

    def raw(self, path: str) -> Any:
        head, *rest = path.split(".")
        value = decode(self.source.get(self.key(head)))
        for part in rest:
            if value is None:
                return None
            if not isinstance(value, Mapping):
                # One sentence per section, however many of its fields are read.
                if not any(p.endswith(f" {self.key(head)} must be an object") for p in self.problems):
                    self.fail(f"{self.key(path)}: {self.key(head)} must be an object")
                return None
            value = value.get(part)
        return value

    def string(self, path: str, pattern: re.Pattern | None = None, expected: str = "",
               required: bool = True, default: str | None = None) -> str | None:
        value = self.raw(path)
        if value is None or value == "":
            head = self.key(path.split(".")[0])
            if required and not any(p.endswith(f" {head} must be an object") for p in self.problems):
                self.fail(f"{self.key(path)} is required: {expected}")
            return default
        if not isinstance(value, str):
            return self.fail(f"{self.key(path)} must be a string ({expected}), got {value!r}", default)
        if pattern is not None and not pattern.match(value):
            return self.fail(f"{self.key(path)}: {value!r} is not {expected}", default)
        return value

    def number(self, path: str, default: float, minimum: float, maximum: float,
               integer: bool = True) -> float:
        value = self.raw(path)
        if value is None:
            return default
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                return self.fail(f"{self.key(path)} must be a number, got {value!r}", default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return self.fail(f"{self.key(path)} must be a number, got {value!r}", default)
        if integer and value != int(value):
            return self.fail(f"{self.key(path)} must be a whole number, got {value!r}", default)
        if not minimum <= value <= maximum:
            return self.fail(f"{self.key(path)} must be between {minimum:g} and {maximum:g}, "
                             f"got {value!r}", default)
        return int(value) if integer else float(value)

    def boolean(self, path: str, default: bool) -> bool:
        value = self.raw(path)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        return self.fail(f"{self.key(path)} must be true or false, got {value!r}", default)


RELEASE_SECTION_KEYS = ("migration", "backup", "healthGate", "tools")
# The fields each section's parser reads (below); any other field is a typo that would
# silently leave its default in force.
SECTION_FIELDS = {
    "migration": {"sourceDatabase", "targetDatabase", "toStep", "pass", "timeoutSeconds",
                  "liveSource", "window", "decisions"},
    "backup": {"retain", "timeoutSeconds", "pass"},
    "healthGate": {"deadlineSeconds", "intervalSeconds", "endpoints"},
    "externalDatabase": {"uri"},
    "tools": {"image"},
}


def unknown_section_fields(source: Any, namespace: str = NS) -> list[str]:
    """`meeshy:migration.toStpe: unknown setting; expected one of ...` for every field of the
    release sections that no parser reads."""
    problems = Problems()
    for section, fields in SECTION_FIELDS.items():
        value = decode(source.get(f"{namespace}:{section}"))
        if isinstance(value, Mapping):
            unknown_keys(dict(value), fields, f"{namespace}:{section}", problems)
    return problems.items


def has_release_section(source: Any, namespace: str = NS) -> bool:
    """Whether the stack's configuration declares its release steps (Docker mode needs at
    least `tools.image`; a section without it is an error raised when the Release is built)."""
    return any(source.get(f"{namespace}:{key}") not in (None, "") for key in RELEASE_SECTION_KEYS)


DB_EXPECTED = "a database name (letters, digits, '_' or '-', at most 63)"


def load_release_settings(stack: str, source: Any, namespace: str = NS) -> ReleaseSettings:
    """Parses the release section. `source` maps full keys (`meeshy:release`) to values, as a
    dict or anything with `.get(key)` (config.pulumi_source.PulumiConfigSource).
    Raises one ReleaseConfigError listing every problem."""
    problems = Problems()
    settings = parse_release_settings(stack, source, problems, namespace)
    if problems:
        raise ReleaseConfigError(problems.items, stack)
    return settings


def parse_release_settings(stack: str, source: Any, problems: Problems, namespace: str = NS, *,
                           shared: v.Shared | None = None) -> ReleaseSettings | None:
    """The release settings, recording every problem in `problems`; None when there is any.
    `shared`: the keys the platform's section reads too, already read (config/stack_settings.py
    reads them once for both); read here when the release section is parsed alone."""
    r = _Reader(namespace, source, problems)
    shared = shared or v.read_shared(source, namespace, DEFAULT_BACKUP_ROOT)
    shared.report(problems, "release", "database", "backupDir")
    backup = BackupSettings(shared.backup_dir, r.number("backup.retain", 10, 1, 1000),
                            r.number("backup.timeoutSeconds", 300, 1, 3600),
                            r.string("backup.pass", _PASS_ID, "a pass id", required=False,
                                     default="") or "")
    health = HealthSettings(r.number("healthGate.deadlineSeconds", 120, 1, 3600),
                            r.number("healthGate.intervalSeconds", 1.0, 0.05, 60, integer=False),
                            _endpoints(r))
    migration = _migration(r) if r.raw("migration") is not None else None
    external = r.string("externalDatabase.uri", re.compile(r"^mongodb(\+srv)?://[^/?]+/?$"),
                        "a server URI without database, e.g. mongodb://127.0.0.1:27017",
                        required=False)
    tools_image = _tools_image(r)
    shared.report(problems, "maintenance")
    if migration is not None and migration.window:
        _check_window(r, migration, shared)
    if problems:
        return None
    return ReleaseSettings(stack=stack, release=shared.release, live_database=shared.live_database,
                           maintenance=shared.maintenance, backup=backup,
                           health=health, migration=migration,
                           external_uri=external.rstrip("/") if external else None,
                           tools_image=tools_image)


def _check_window(r: _Reader, migration: MigrationSettings, shared) -> None:
    """`migration.window` runs the migration into the database the services use, which only a
    switch's window update may do: under maintenance, as they move onto it."""
    missing = [why for why, bad in (
        ("meeshy:maintenance is not on", not shared.maintenance),
        (f"the services do not use the migration's target ({migration.target_database!r})",
         shared.live_database != migration.target_database),
        ("migration.liveSource is on", migration.live_source)) if bad]
    if missing:
        r.fail(f"{r.key('migration.window')}: set by `ops switch` for the delta pass of its window "
               f"update only, and here " + "; ".join(missing))


def _tools_image(r: _Reader) -> str | None:
    tools_image = r.string("tools.image", re.compile(r"^\S+$"), "an image reference", required=False)
    why = image_problem(tools_image) if tools_image else None
    if why:
        r.fail(f"{r.key('tools.image')}: expected an image pinned to a version "
               f"tag or a digest, got {tools_image!r} ({why})")
    return tools_image


def _endpoints(r: _Reader) -> dict[str, str]:
    endpoints_raw = r.raw("healthGate.endpoints") or {}
    if not isinstance(endpoints_raw, Mapping):
        return r.fail(f"{r.key('healthGate.endpoints')} must be an object {{service: url}}", {})
    endpoints = {}
    for name in sorted(endpoints_raw):
        if not _SERVICE_NAME.match(str(name)):
            r.fail(f"{r.key('healthGate.endpoints.' + str(name))}: invalid service name")
            continue
        endpoints[name] = r.string(f"healthGate.endpoints.{name}", re.compile(r"^https?://\S+$"),
                                   "an http(s) URL")
    return endpoints


def _migration(r: _Reader) -> MigrationSettings:
    source = r.string("migration.sourceDatabase", _DATABASE_NAME, DB_EXPECTED)
    target = r.string("migration.targetDatabase", _DATABASE_NAME, DB_EXPECTED)
    if source is not None and source == target:
        r.fail(f"{r.key('migration.targetDatabase')}: must differ from migration.sourceDatabase "
               f"({source!r}); the legacy database is never written")
    return MigrationSettings(
        source, target,
        r.string("migration.toStep", None, "a migration step id", required=False),
        r.string("migration.pass", _PASS_ID, "a pass id", required=False, default="") or "",
        r.number("migration.timeoutSeconds", 480, 1, 3600),
        r.boolean("migration.liveSource", False),
        decisions=read_decisions(r), window=r.boolean("migration.window", False))
