"""`ops audit STACK --out DIR`: the host's compose production as the engine reports it, kept by
the operator before anything is taken over.

    python -m takeover.audit.capture production --out /root/meeshy-audit [--compose-project meeshy]
        [--mongo-uri URI] [--docker-host ssh://user@host] [--name-prefix meeshy-]

DIR (new or empty) receives:
    snapshot.json    what was found, per container its image id and digests, volumes with the
                     stack purpose they serve, networks, what is missing, the adopt section
    containers.json  full `docker container inspect`, env values and secrets masked
    images.json volumes.json networks.json   the engine's inspect of each, masked
    database.json    per database: collections, document counts, indexes (and how it was read)
    compose/         the project's compose file(s) and .env, every value masked
    SUMMARY.txt      the same for a human, also printed
Exit status: 0 complete, 3 written but something expected is missing, 2 nothing written.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Callable

from commands.docker import COMPOSE_PROJECT, network_ls, ps_ids, volume_ls
from config import naming
from config.locations import REPO_ROOT, writable_problem
from takeover.audit import expected
from takeover.audit.compose_files import project_files, write_masked_files
from takeover.audit.database import audit_database
from takeover.audit.report import render_summary
from takeover.docker_host import DockerError, Engine
from takeover.mask import mask_container, mask_deep, mask_image, mask_labels

EXIT_COMPLETE, EXIT_ERROR, EXIT_MISSING = 0, 2, 3


class AuditError(RuntimeError):
    pass


def find_containers(engine: Engine, project: str, name_prefix: str) -> tuple[dict[str, dict], str]:
    """{name: raw inspect} of the project's containers in creation order, and how they were
    found: by compose label, else (containers started without compose) by name prefix, never
    taking a container a Pulumi stack owns."""
    ids = engine.lines(ps_ids(labels={COMPOSE_PROJECT: project}, docker_host=engine.docker_host))
    how = f"label {COMPOSE_PROJECT}={project}"
    records = engine.inspect_containers(ids)
    if not records and name_prefix:
        ids = engine.lines(ps_ids(names=[name_prefix], docker_host=engine.docker_host))
        records = [r for r in engine.inspect_containers(ids)
                   if r["Name"].lstrip("/").startswith(name_prefix)
                   and naming.STACK_LABEL not in ((r.get("Config") or {}).get("Labels") or {})]
        how = f"name prefix {name_prefix!r} (no container has the label {COMPOSE_PROJECT}={project})"
    records.sort(key=lambda r: (r.get("Created") or "", r["Name"]))
    return {r["Name"].lstrip("/"): r for r in records}, how


def _container_summary(record: dict, image: dict | None, name_prefix: str) -> dict:
    state = record.get("State") or {}
    return {
        "name": record["Name"].lstrip("/"), "id": record["Id"],
        "service": expected.service_of(record, name_prefix),
        "image": (record.get("Config") or {}).get("Image"), "imageId": record.get("Image"),
        "repoDigests": (image or {}).get("RepoDigests") or [],
        "repoTags": (image or {}).get("RepoTags") or [],
        "imagePresent": image is not None,
        "state": state.get("Status"), "health": (state.get("Health") or {}).get("Status"),
        "exitCode": state.get("ExitCode"), "created": record.get("Created"),
        "restartPolicy": ((record.get("HostConfig") or {}).get("RestartPolicy") or {}).get("Name"),
        "ports": {p: [f"{b.get('HostIp') or '0.0.0.0'}:{b.get('HostPort')}" for b in bs or []]
                  for p, bs in sorted(((record.get("HostConfig") or {}).get("PortBindings") or {}).items())},
        "mounts": [{"type": m.get("Type"), "name": m.get("Name"), "source": m.get("Source"),
                    "destination": m.get("Destination"), "rw": m.get("RW")}
                   for m in record.get("Mounts") or []],
        "networks": sorted(((record.get("NetworkSettings") or {}).get("Networks") or {})),
    }


def _prepare_out(out: Path) -> None:
    """Before the engine is asked anything: the snapshot is written at the end, and a run
    whose output cannot be kept would be lost."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise AuditError(f"--out {out}: exists and is not an empty directory; a snapshot is never "
                         "overwritten, give a new directory")
    problem = writable_problem(out, "--out", directory=True)
    if problem:
        raise AuditError(problem)
    try:
        out.mkdir(parents=True, exist_ok=True, mode=0o750)
    except OSError as error:
        raise AuditError(f"--out {out}: cannot be created ({error.strerror or error})") from None


def _volumes_and_networks(engine: Engine, containers: dict, compose_project: str,
                          docker_host: str | None) -> tuple[dict, dict]:
    """The volumes and networks the containers use, and those labelled with the compose project
    (a volume nothing mounts any more still holds data)."""
    labels = {COMPOSE_PROJECT: compose_project}
    mounted = [m["Name"] for r in containers.values() for m in r.get("Mounts") or []
               if m.get("Type") == "volume"]
    labelled = engine.lines(volume_ls(labels=labels, docker_host=docker_host))
    volumes = engine.inspect_volumes([*mounted, *labelled])
    attached = [n for r in containers.values()
                for n in ((r.get("NetworkSettings") or {}).get("Networks") or {})]
    labelled_nets = engine.lines(network_ls(labels=labels, docker_host=docker_host))
    networks = {n["Name"]: n for n in engine.inspect_networks([*attached, *labelled_nets]).values()}
    return volumes, networks


def _volume_rows(volumes: dict, containers: dict, purposes: dict) -> list[dict]:
    """One row per volume: its purpose for the stack, who mounts it where, its masked labels."""
    used_by: dict[str, list[str]] = {}
    for name, record in containers.items():
        for m in record.get("Mounts") or []:
            if m.get("Type") == "volume":
                used_by.setdefault(m["Name"], []).append(f"{name}:{m['Destination']}")
    purpose_of = {v["volume"]: p for p, v in purposes.items()}
    return [{"name": n, "purpose": purpose_of.get(n), "mountpoint": v.get("Mountpoint"),
             "driver": v.get("Driver"), "labels": mask_labels(v.get("Labels")) or {},
             "createdAt": v.get("CreatedAt"), "usedBy": used_by.get(n, [])}
            for n, v in sorted(volumes.items())]


def audit(stack: str, out: Path, *, compose_project: str = "meeshy", mongo_uri: str | None = None,
          docker_host: str | None = None, name_prefix: str = "meeshy-",
          stack_file: Path | None = None, engine: Engine | None = None,
          log: Callable[[str], None] = print) -> dict:
    """Writes the snapshot into `out` and returns snapshot.json's content."""
    error = naming.stack_name_error(stack)
    if error:
        raise AuditError(error)
    out = Path(out)
    _prepare_out(out)
    engine = engine or Engine(docker_host=docker_host)
    started = time.time()
    version = engine.server_version()
    containers, how = find_containers(engine, compose_project, name_prefix)
    images = engine.inspect_images([r["Image"] for r in containers.values()])
    volumes, networks = _volumes_and_networks(engine, containers, compose_project, docker_host)

    services: dict[str, list[str]] = {}
    for name, record in containers.items():
        services.setdefault(expected.service_of(record, name_prefix) or "?", []).append(name)
    purposes = expected.volume_purposes(containers, name_prefix)
    database_container = next((containers[n] for n in services.get(expected.DATABASE_SERVICE, [])), None)
    database = mask_deep(audit_database(engine, uri=mongo_uri, container=database_container))
    missing = expected.missing(services, purposes, database, volumes)
    suggestion = expected.adopt_suggestion(purposes, expected.main_network(containers, name_prefix))
    stack_file = stack_file or REPO_ROOT / f"Pulumi.{stack}.yaml"
    adopt_check = expected.adopt_problems(expected.configured_adopt(stack_file), volumes,
                                          networks, suggestion)
    files = write_masked_files(project_files(containers), out / "compose", remote=bool(docker_host))

    snapshot = {
        "stack": stack, "composeProject": compose_project, "foundBy": how,
        "dockerHost": docker_host or "local", "engineVersion": version,
        "taken": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "containers": [_container_summary(r, images.get(r["Image"]), name_prefix)
                       for r in containers.values()],
        "services": services,
        "volumes": _volume_rows(volumes, containers, purposes),
        "networks": [{"name": n, "id": v.get("Id"), "driver": v.get("Driver"),
                      "containers": sorted(c.get("Name", "") for c in (v.get("Containers") or {}).values())}
                     for n, v in sorted(networks.items())],
        "composeFiles": files, "database": {k: v for k, v in database.items() if k != "databases"},
        "databases": {db: {"collections": len(d["collections"]), "documents": d["documents"]}
                      for db, d in (database.get("databases") or {}).items()},
        "missing": missing, "adoptSuggestion": suggestion,
        "stackFile": str(stack_file), "adoptCheck": adopt_check,
        "seconds": round(time.time() - started, 3),
    }
    _write(out / "containers.json", [mask_container(r) for r in containers.values()])
    _write(out / "images.json", {ref: mask_image(i) for ref, i in images.items()})
    _write(out / "volumes.json", mask_deep(volumes))
    _write(out / "networks.json", mask_deep(networks))
    _write(out / "database.json", database)
    _write(out / "snapshot.json", snapshot)
    summary = render_summary(snapshot, database)
    (out / "SUMMARY.txt").write_text(summary)
    log(summary)
    return snapshot


def _write(path: Path, value) -> None:
    path.write_text(json.dumps(value, indent=2, sort_keys=True, default=str) + "\n")


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    """The audit's arguments; `python -m ops` registers them as its `audit` subcommand."""
    parser = parser or argparse.ArgumentParser(prog="python -m takeover.audit.capture",
                                               description=__doc__.split("\n\n")[0])
    parser.add_argument("stack", help="the stack that will take this deployment over (e.g. production)")
    parser.add_argument("--out", required=True, type=Path, help="new or empty directory for the snapshot")
    parser.add_argument("--compose-project", default="meeshy", help="compose project name (default: meeshy)")
    parser.add_argument("--mongo-uri", help="read the database with pymongo at this URI instead of "
                        "`docker exec` into the database container")
    parser.add_argument("--docker-host", help="engine to audit, e.g. ssh://user@host (default: local)")
    parser.add_argument("--name-prefix", default="meeshy-",
                        help="container name prefix used when no container has the compose label")
    parser.add_argument("--stack-file", type=Path, help="stack file whose meeshy:adopt section is "
                        "checked (default: Pulumi.STACK.yaml of this repository)")
    return parser


def run(args: argparse.Namespace) -> int:
    try:
        snapshot = audit(args.stack, args.out, compose_project=args.compose_project,
                         mongo_uri=args.mongo_uri, docker_host=args.docker_host,
                         name_prefix=args.name_prefix, stack_file=args.stack_file)
    except (AuditError, DockerError) as error:
        print(f"audit failed: {error}", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_MISSING if snapshot["missing"] else EXIT_COMPLETE


def main(argv: list[str] | None = None) -> int:
    return run(build_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
