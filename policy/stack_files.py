"""Facts the policies need about a stack, read from the project's stack files: its declared
ports, the names it adopts, and the ports every other stack declares on the same host."""
from __future__ import annotations

import os
from pathlib import Path

from config import stack_edits as edit
from config import validation as v
from config.service_settings import parse_services
from config.settings import MappingSource
from config.settings_sections import parse_adopt, parse_ports
from config.stack_file import stack_config, stack_file
from policy.rules import StackFacts

PROJECT_DIR = Path(os.environ.get("MEESHY_PROJECT_DIR", Path(__file__).resolve().parent.parent))


def _ports(config: dict, stack: str) -> frozenset[int] | None:
    ports = parse_ports(config.get(edit.key("ports")), edit.key("ports"), stack == "production",
                        v.Problems())
    return frozenset(ports.published) if ports else None


def declared_mounts(config: dict) -> frozenset[str]:
    """Host paths and volume names the stack's meeshy:services mounts (its own problems are the
    program's to report)."""
    services = parse_services(MappingSource(config), v.Problems())
    found = set()
    for service in services.by_name.values():
        found.update(f.host_path for f in service.secret_files if f.host_path)
        found.update(m.host_path or m.volume for m in service.volumes)
    return frozenset(found)


def stack_facts(stack: str, project_dir: Path = PROJECT_DIR) -> StackFacts:
    config = stack_config(stack_file(project_dir, stack))
    adopt = parse_adopt(config.get(edit.key("adopt")), edit.key("adopt"), v.Problems())
    others = {}
    for path in sorted(project_dir.glob("Pulumi.*.yaml")):
        other = path.name[len("Pulumi."):-len(".yaml")]
        if other != stack:
            ports = _ports(stack_config(path), other)
            if ports:
                others[other] = ports
    return StackFacts(
        stack=stack,
        declared_ports=_ports(config, stack) if config else None,
        adopted_names=frozenset([*adopt.volumes.values(), *(n.name for n in adopt.networks.values())]),
        other_stacks_ports=others,
        declared_mounts=declared_mounts(config),
    )
