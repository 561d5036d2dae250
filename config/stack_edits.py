"""Typed edits of a stack's configuration: the `meeshy:` keys ops changes, spelled once.

Each function returns the values it sets, as `{full path: value}` for `ConfigDoc.with_values`
(config/stack_file.py), so edits compose: `doc.with_values({**release("r2"), **maintenance(True)})`.
A path names a nested key (`meeshy:migration.pass`); the key names and their meaning are
documented in docs/configuration.md and parsed by config/settings.py and config/release_settings.py.
"""
from __future__ import annotations

from typing import Any, Mapping

from config.naming import NS
from config.stack_file import ConfigDoc

Values = dict[str, Any]

MIGRATION_PASS = f"{NS}:migration.pass"
BACKUP_PASS = f"{NS}:backup.pass"
# The passes ops sets (its bookkeeping: a new value runs a migration or takes a backup).
PASS_PATHS = (MIGRATION_PASS, BACKUP_PASS)


def key(name: str) -> str:
    """The full key of a setting: `release` -> `meeshy:release`."""
    return f"{NS}:{name}"


def release(label: str) -> Values:
    return {key("release"): label}


def maintenance(on: bool) -> Values:
    return {key("maintenance"): on}


def live_database(name: str) -> Values:
    """The database the services use (`meeshy:database.name`)."""
    return {key("database.name"): name}


def images(refs: Mapping[str, str]) -> Values:
    """The whole `meeshy:images` section."""
    return {key("images"): dict(refs)}


def migration_pass(pass_id: str, live_source: bool | None = None) -> Values:
    """A new migration pass; `live_source` set: whether the source still takes writes."""
    values: Values = {MIGRATION_PASS: pass_id}
    if live_source is not None:
        values[key("migration.liveSource")] = live_source
    return values


def migration_window(pass_id: str) -> Values:
    """The delta pass `pass_id` in a switch's window update: the source frozen (`liveSource`
    false) and the pass run in the update that moves the services onto its target
    (`migration.window`, config/release_settings.py)."""
    return {**migration_pass(pass_id, live_source=False), key("migration.window"): True}


def migration_section(doc: ConfigDoc, pass_id: str, live_source: bool) -> Values:
    """The doc's whole `meeshy:migration` section with a pass and `liveSource` set (one value,
    so the section reaches the engine as one object)."""
    section = dict(doc.get_path(key("migration")) or {})
    return {key("migration"): {**section, "pass": pass_id, "liveSource": live_source}}


def backup_pass(pass_id: str) -> Values:
    return {BACKUP_PASS: pass_id}


def passes(doc: ConfigDoc) -> Values:
    """The passes a doc carries, by path (those it has)."""
    return {path: value for path in PASS_PATHS if (value := doc.get_path(path)) is not None}
