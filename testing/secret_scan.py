"""Where a stack's secrets must never be found: a search for each secret's value in containers'
labels and `docker inspect`, in files (state, backups' manifests, reports, ledgers, logs) and in
the output of the commands that ran. A finding names the secret's key and the place, never the
value.

One exception, by necessity: the variables docs/configuration.md lists under "Secrets only an
environment variable can carry" (Meeshy's services read them from their environment and nowhere
else), so their `NAME=value` entries in a container's `Config.Env` are not findings; the same
value anywhere else is.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Iterable, Mapping

REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIGURATION_DOC = REPO_ROOT / "docs" / "configuration.md"
ENV_ONLY_HEADING = "### Secrets only an environment variable can carry"
# Compressed dumps hold the database's own content (users' password hashes, not our secrets);
# their manifests beside them are scanned.
BINARY_SUFFIXES = (".gz", ".png", ".db", ".archive")


def env_only_variables(doc: Path = CONFIGURATION_DOC) -> frozenset[str]:
    """The first column's backquoted names of the doc's env-only table."""
    lines = doc.read_text().splitlines()
    start = lines.index(ENV_ONLY_HEADING) + 1
    names: set[str] = set()
    for line in lines[start:]:
        if line.startswith("#"):
            break
        if line.startswith("| `"):
            names.update(re.findall(r"`([A-Z][A-Z0-9_]*)`", line.split("|")[1]))
    return frozenset(names)


def _forms(value: str) -> tuple[str, ...]:
    """The value as written, and as JSON escapes it (a `"` or `\\` inside a JSON file)."""
    escaped = json.dumps(value)[1:-1]
    return (value,) if escaped == value else (value, escaped)


def in_text(secrets: Mapping[str, str], where: str, text: str) -> list[str]:
    return [f"{where}: holds the value of {key}"
            for key, value in sorted(secrets.items()) if any(f in text for f in _forms(value))]


def in_container(secrets: Mapping[str, str], inspected: dict,
                 env_only: frozenset[str] = frozenset()) -> list[str]:
    """A container's labels one by one, then the rest of its `docker inspect` (environment
    entries of env-only variables aside)."""
    name = inspected.get("Name", "?").lstrip("/")
    config = dict(inspected.get("Config") or {})
    findings: list[str] = []
    for label, value in sorted((config.pop("Labels", None) or {}).items()):
        findings += in_text(secrets, f"container {name} label {label}", f"{label}={value}")
    config["Env"] = [e for e in config.get("Env") or [] if e.split("=", 1)[0] not in env_only]
    rest = {**inspected, "Config": config}
    return findings + in_text(secrets, f"container {name} docker inspect", json.dumps(rest))


def in_files(secrets: Mapping[str, str], roots: Iterable[Path]) -> list[str]:
    findings: list[str] = []
    for root in roots:
        paths = [root] if root.is_file() else sorted(root.rglob("*")) if root.is_dir() else []
        for path in paths:
            if path.is_file() and not path.name.endswith(BINARY_SUFFIXES):
                findings += in_text(secrets, f"file {path}", path.read_text(errors="replace"))
    return findings
