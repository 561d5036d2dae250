"""What the audit expects to find on a host running today's compose production, and how what
it found maps onto the stack's own names.

Expected things are described by role (compose service, mount destination, collection name),
never by a guessed Docker name: a volume is found as "what the database container mounts at
/data/db", whatever the compose file named it (`meeshy_database_data`, `meeshy-database-data`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from commands.docker import COMPOSE_SERVICE
from config import naming, services
from config import stack_edits as edit
from config.stack_file import stack_config
from migration.meeshy.legacy_collections import LEGACY_COLLECTIONS

# Compose services with no counterpart in the stack: the one-shot replica-set init.
COMPOSE_ONLY = {"mongo-init": False}
# compose service -> required for a working production (admin UIs, optional services and the
# one-shot init are not), from the service declarations (config/services/).
EXPECTED_SERVICES: dict[str, bool] = {
    **{s.compose: s.compose_required for s in services.SPECS if s.compose}, **COMPOSE_ONLY}
# (compose service, mount destination) -> the stack's volume purpose: where today's production
# mounts each volume a service declares as audited.
DATA_MOUNTS: dict[tuple[str, str], str] = {
    (s.compose, use.path): use.purpose for s in services.SPECS if s.compose
    for use in s.volumes if use.owner and use.audited}
DATABASE_SERVICE = "database"
LEGACY_DATABASE = "meeshy"
EXPECTED_COLLECTIONS = LEGACY_COLLECTIONS


def service_of(record: dict, name_prefix: str) -> str | None:
    """The compose service a container runs: its compose label, else its name without the
    prefix (`meeshy-gateway` -> gateway) for containers made without compose labels."""
    labels = (record.get("Config") or {}).get("Labels") or {}
    if labels.get(COMPOSE_SERVICE):
        return labels[COMPOSE_SERVICE]
    name = record["Name"].lstrip("/")
    return name[len(name_prefix):] if name_prefix and name.startswith(name_prefix) else None


def volume_purposes(containers: dict[str, dict], name_prefix: str) -> dict[str, dict]:
    """{purpose: {volume, service, container, destination}} from the containers' mounts."""
    found: dict[str, dict] = {}
    for record in containers.values():
        service = service_of(record, name_prefix)
        for mount in record.get("Mounts") or []:
            purpose = DATA_MOUNTS.get((service, mount.get("Destination")))
            if purpose and mount.get("Type") == "volume":
                found[purpose] = {"volume": mount["Name"], "service": service,
                                  "container": record["Name"].lstrip("/"),
                                  "destination": mount["Destination"]}
    return found


def main_network(containers: dict[str, dict], name_prefix: str) -> dict | None:
    """The network the database container is on: the one the stack adopts as `main`."""
    for record in containers.values():
        if service_of(record, name_prefix) == DATABASE_SERVICE:
            networks = (record.get("NetworkSettings") or {}).get("Networks") or {}
            for name, endpoint in sorted(networks.items()):
                return {"name": name, "id": (endpoint or {}).get("NetworkID") or name}
    return None


def missing(services: dict[str, list[str]], purposes: dict[str, dict],
            database: dict[str, Any], volumes_found: dict[str, dict]) -> list[str]:
    """One line per expected thing that is not there, most serious first."""
    lines: list[str] = []
    for service, required in EXPECTED_SERVICES.items():
        if service not in services and required:
            lines.append(f"service {service}: no container (expected a compose service {service!r})")
    for (service, destination), purpose in DATA_MOUNTS.items():
        if purpose in purposes:
            if purposes[purpose]["volume"] not in volumes_found:
                lines.append(f"volume {purpose}: {purposes[purpose]['volume']} is mounted but "
                             "`docker volume inspect` does not find it")
        elif service in services:
            lines.append(f"volume {purpose}: container of {service} has no volume at {destination}")
        elif EXPECTED_SERVICES.get(service):
            lines.append(f"volume {purpose}: unknown, since service {service} has no container")
    if database.get("method") is None:
        lines.append(f"database: not read ({database.get('error')})")
    else:
        legacy = database["databases"].get(LEGACY_DATABASE)
        if legacy is None:
            lines.append(f"database {LEGACY_DATABASE}: absent (found: "
                         f"{', '.join(database['databases']) or 'no database'})")
        else:
            absent = [c for c in EXPECTED_COLLECTIONS if c not in legacy["collections"]]
            if absent:
                lines.append(f"database {LEGACY_DATABASE}: collections absent: {', '.join(absent)}")
    return lines


def adopt_suggestion(purposes: dict[str, dict], network: dict | None) -> dict:
    """The `meeshy:adopt` section that makes the stack take these volumes over."""
    section: dict[str, Any] = {"volumes": {p: purposes[p]["volume"] for p in naming.VOLUMES if p in purposes}}
    if network:
        section["networks"] = {"main": {"name": network["name"], "id": network["id"]}}
    return section


def configured_adopt(stack_file: Path) -> dict | None:
    """The `meeshy:adopt` section of a stack file, or None when the file or section is absent."""
    return stack_config(stack_file).get(edit.key("adopt")) or None


def adopt_problems(configured: dict | None, volumes_found: dict[str, dict],
                   networks_found: dict[str, dict], suggestion: dict) -> list[str]:
    """Where the stack file's adopt section names things the engine does not have, or differs
    from what the containers actually mount."""
    if configured is None:
        return ["the stack file has no meeshy:adopt section: its first `up` would create empty "
                "volumes; add the suggested section"]
    lines: list[str] = []
    for purpose, name in sorted((configured.get("volumes") or {}).items()):
        if name not in volumes_found:
            lines.append(f"meeshy:adopt.volumes.{purpose}: volume {name!r} does not exist on this engine")
        elif suggestion["volumes"].get(purpose) not in (None, name):
            lines.append(f"meeshy:adopt.volumes.{purpose}: {name!r}, but production mounts "
                         f"{suggestion['volumes'][purpose]!r} there")
    for purpose in sorted(set(suggestion["volumes"]) - set(configured.get("volumes") or {})):
        if naming.VOLUMES.get(purpose):
            lines.append(f"meeshy:adopt.volumes.{purpose}: not adopted, though production keeps "
                         f"data in {suggestion['volumes'][purpose]!r}")
    for logical, value in sorted((configured.get("networks") or {}).items()):
        name = value if isinstance(value, str) else (value or {}).get("name")
        if name not in networks_found:
            lines.append(f"meeshy:adopt.networks.{logical}: network {name!r} does not exist on this engine")
    return lines
