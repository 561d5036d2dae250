"""What the takeover changes, container by container: the whole configuration of each audited
compose container (variable names, mounts, ports, label names, health check, restart policy)
beside what the stack would deploy in its place.

    python -m takeover.audit.config_diff STACK AUDIT_DIR     prints the differences; exit 3 when a variable
                                                   or mount would disappear unintended
    python -m takeover.audit.config_diff STACK --expected    the stack's side as JSON

The stack's side comes from its settings (config/stack_settings.py) and the containers the
platform declares for them (components/platform/declared.py), without secrets: only names are
compared, and the audit masks every value. A variable the compose container's image
sets is not one compose set, so the image's own names are left out. What an operator means to
drop is listed, one `service:NAME` or `service:/mount/path` a line, in AUDIT_DIR/intended.txt.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from components.platform.containers import RESTART_POLICY, ContainerSpec
from components.platform.declared import declared_containers
from components.platform.routing import identity_labels, merge
from config import services
from config.naming import StackNames
from config.stack_file import stack_config, stack_file
from config.stack_settings import load_stack, offline_config
from takeover.audit import expected

# compose service -> the stack's service that replaces it
STACK_SERVICE = services.compose_services()
INTENDED_FILE = "intended.txt"
PROJECT_DIR = Path(__file__).resolve().parents[2]
EXIT_REFUSED = 3
_COMPOSE_LABEL = "com.docker.compose."


def _names(env: list | None) -> set[str]:
    return {e.split("=", 1)[0] for e in env or []}


def compose_side(record: dict, image: dict | None) -> dict:
    """One audited (masked) container's configuration, by name only."""
    cfg, host = record.get("Config") or {}, record.get("HostConfig") or {}
    image_env = _names(((image or {}).get("Config") or {}).get("Env"))
    return {"env": sorted(_names(cfg.get("Env")) - image_env),
            "mounts": sorted(m.get("Destination") for m in record.get("Mounts") or []),
            "ports": sorted(host.get("PortBindings") or {}),
            "labels": sorted(k for k in cfg.get("Labels") or {} if not k.startswith(_COMPOSE_LABEL)),
            "health": list((cfg.get("Healthcheck") or {}).get("Test") or []),
            "restart": (host.get("RestartPolicy") or {}).get("Name") or "no"}


def stack_side(container: ContainerSpec, names: StackNames) -> dict:
    """A container the stack declares, in the same shape."""
    return {"env": sorted(container.envs),
            "mounts": sorted([m.container_path for m in container.mounts]
                             + list(container.files) + list(container.read_only_files)),
            "ports": sorted(f"{p.internal}/{p.protocol}" for p in container.ports),
            "labels": sorted(merge(identity_labels(names, container.service), container.labels)),
            "health": list(container.health.test) if container.health else [],
            "restart": RESTART_POLICY}


def compare(compose: dict, stack: dict | None) -> dict:
    """{field: {removed, added}} for the lists, {field: [compose, stack]} for the rest."""
    if stack is None:
        return {"container": "the stack declares no container for this service"}
    out: dict = {}
    for field in ("env", "mounts", "ports", "labels"):
        removed = sorted(set(compose[field]) - set(stack[field]))
        added = sorted(set(stack[field]) - set(compose[field]))
        if removed or added:
            out[field] = {"removed": removed, "added": added}
    for field in ("health", "restart"):
        if compose[field] != stack[field]:
            out[field] = [compose[field], stack[field]]
    return out


def differences(audit_dir: Path, expected_stack: dict[str, dict], name_prefix: str = "") -> dict:
    """{compose service: compare(...)} for every audited container with a known service."""
    containers = json.loads((audit_dir / "containers.json").read_text())
    images_path = audit_dir / "images.json"
    images = json.loads(images_path.read_text()) if images_path.exists() else {}
    by_id = {i.get("Id"): i for i in images.values() if isinstance(i, dict)}
    found: dict = {}
    for record in containers:
        service = expected.service_of(record, name_prefix)
        if service not in STACK_SERVICE:
            continue
        compose = compose_side(record, by_id.get(record.get("Image")))
        found[service] = compare(compose, expected_stack.get(STACK_SERVICE[service]))
    return found


def intended(audit_dir: Path) -> set[str]:
    path = audit_dir / INTENDED_FILE
    if not path.exists():
        return set()
    return {line.strip() for line in path.read_text().splitlines()
            if line.strip() and not line.lstrip().startswith("#")}


def disappearing(found: dict, allowed: set[str]) -> list[str]:
    """Variables and mounts a compose container had that the stack drops, unless intended."""
    lines = []
    for service, diff in sorted(found.items()):
        if diff.get("container"):
            if service not in allowed and expected.EXPECTED_SERVICES.get(service):
                lines.append(f"{service}: {diff['container']}")
            continue
        for field, what in (("env", "variable"), ("mounts", "mount")):
            for name in (diff.get(field) or {}).get("removed", []):
                if f"{service}:{name}" not in allowed:
                    lines.append(f"{service}: {what} {name} would disappear")
    return lines


def render(found: dict) -> list[str]:
    lines = []
    for service, diff in sorted(found.items()):
        if not diff:
            lines.append(f"{service}: same configuration")
            continue
        for field, value in sorted(diff.items()):
            if isinstance(value, dict):
                for kind in ("removed", "added"):
                    if value[kind]:
                        lines.append(f"{service}: {field} {kind}: {', '.join(value[kind])}")
            else:
                lines.append(f"{service}: {field}: {value}")
    return lines


def expected_stack(stack: str, project_dir: Path = PROJECT_DIR) -> dict[str, dict]:
    """The stack's containers as `stack_side` shapes, from its stack file (secrets unread)."""
    config = offline_config(stack_config(stack_file(project_dir, stack)))
    settings = load_stack(stack, config, platform=True).platform
    return {service: stack_side(container, settings.names)
            for service, container in declared_containers(settings).items()}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m takeover.audit.config_diff", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stack")
    parser.add_argument("audit_dir", nargs="?", type=Path, help="the directory `ops audit` wrote")
    parser.add_argument("--expected", action="store_true",
                        help="print the stack's side as JSON (no audit directory)")
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    if args.expected:
        print(json.dumps(expected_stack(args.stack), sort_keys=True))
        return 0
    if args.audit_dir is None:
        build_parser().error("an audit directory is required (or --expected)")
    found = differences(args.audit_dir, expected_stack(args.stack))
    print("\n".join(render(found)))
    refused = disappearing(found, intended(args.audit_dir))
    for line in refused:
        print(f"REFUSED {line} (list it in {args.audit_dir / INTENDED_FILE} if intended)")
    return EXIT_REFUSED if refused else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
