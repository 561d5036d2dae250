"""The takeover phase and its way back: stop and remove today's compose deployment (volumes
untouched) just before the Pulumi production starts on the adopted volumes, and bring the
compose deployment back exactly as recorded when the switch rolls back.

    takeover(snapshot_dir, project=...)  -> report; writes takeover-<op>.json (masked) into the
                                           audit snapshot and the private record (0600) beside
                                           ops' state, then stops and removes the containers
    restore(record)                      -> report; re-creates every container from the private
                                           record (same image id, env, mounts, networks, ports,
                                           labels, restart policy, command), starts those that
                                           were running, waits until healthy (bounded), and
                                           compares each with its record

Both are phases ops' switch can run (`python -m takeover.compose.handover takeover|restore` for an operator).
Nothing is stopped before every container is proven re-creatable and both records are written.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable

from commands import docker as docker_cli
from commands.docker_create import NotRestorable
from takeover.audit.capture import find_containers
from takeover.compose.record import (
    RecordError,
    TakeoverError,
    create_plans,
    default_private_dir,
    now,
    write_masked,
    write_private,
)
from takeover.compose.restore import DEFAULT_RESTORE_SECONDS, restore
from takeover.docker_host import DockerError, Engine
from takeover.mask import mask_container

DEFAULT_STOP_SECONDS = 30


def keep_tag(project: str, op: str, image_id: str) -> str:
    return f"meeshy-takeover/{project.lower()}:{op.lower()}-{image_id.split(':')[-1][:12]}"


def _same_as_audited(snapshot: dict, project: str, containers: dict) -> None:
    """The takeover stops what the operator audited and read, nothing else."""
    if snapshot.get("composeProject") != project:
        raise TakeoverError(f"the audit snapshot is of compose project {snapshot.get('composeProject')!r}, "
                            f"not {project!r}")
    audited = {c["name"] for c in snapshot.get("containers") or []}
    new, gone = sorted(set(containers) - audited), sorted(audited - set(containers))
    if new or gone:
        raise TakeoverError("the host changed since the audit (containers "
                            + ", ".join([*(f"new {n}" for n in new), *(f"gone {n}" for n in gone)])
                            + "): audit again into a new directory and review it")


def takeover(snapshot_dir: Path, *, project: str = "meeshy", name_prefix: str = "meeshy-",
             docker_host: str | None = None, private_dir: Path | None = None,
             stop_seconds: int = DEFAULT_STOP_SECONDS, engine: Engine | None = None,
             log: Callable[[str], None] = print) -> dict:
    engine = engine or Engine(docker_host=docker_host)
    snapshot_dir = Path(snapshot_dir)
    if not (snapshot_dir / "snapshot.json").is_file():
        raise TakeoverError(f"{snapshot_dir} is not an audit snapshot (no snapshot.json): run "
                            "`ops audit STACK --out DIR` first and keep DIR")
    started, clock = now(), time.monotonic()
    op = "takeover-" + time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    containers, how = _audited_containers(engine, snapshot_dir, project, name_prefix)
    records = list(containers.values())
    private, volume_names = _private_record(engine, op, project, docker_host, records)
    private["keepTags"] = keep = _keep_images(engine, project, op, records, docker_host)
    private_path = Path(private_dir or default_private_dir(project)) / f"{op}.json"
    digest = write_private(private_path, private)
    masked_path = snapshot_dir / f"{op}.json"
    report = {"opId": op, "project": project, "foundBy": how, "started": started,
              "privateRecord": str(private_path), "privateSha256": digest,
              "containers": [_container_entry(r) for r in records],
              "volumes": volume_names, "networks": sorted(private["networks"]),
              "keepTags": sorted(keep.values()), "result": "recorded"}
    write_masked(masked_path, report)
    log(f"takeover {op}: recorded {len(records)} container(s) in {masked_path} "
        f"(private record {private_path}, mode 0600)")
    names = [r["Name"].lstrip("/") for r in records]
    running = [r["Name"].lstrip("/") for r in reversed(records) if (r.get("State") or {}).get("Running")]
    try:
        _stop_and_remove(engine, project, running, names, volume_names, stop_seconds, docker_host)
    except (DockerError, TakeoverError) as error:
        report.update(result="failed", error=str(error), ended=now())
        write_masked(masked_path, report)
        raise TakeoverError(f"takeover {op} failed: {error}; `restore` brings back what was "
                            f"recorded ({masked_path})", report) from None
    report.update(result="taken over", stopped=running, removed=names, volumesIntact=volume_names,
                  ended=now(), seconds=round(time.monotonic() - clock, 3), record=str(masked_path))
    write_masked(masked_path, report)
    log(f"takeover {op}: stopped {len(running)}, removed {len(names)} container(s); "
        f"{len(volume_names)} volume(s) untouched ({report['seconds']} s)")
    return report


def _audited_containers(engine: Engine, snapshot_dir: Path, project: str,
                        name_prefix: str) -> tuple[dict, str]:
    """The project's containers, refused unless they are the ones the audit snapshot recorded."""
    containers, how = find_containers(engine, project, name_prefix)
    if not containers:
        raise TakeoverError(f"no container of compose project {project!r} (nor named {name_prefix}*): "
                            "nothing to take over; check --compose-project against the audit")
    _same_as_audited(json.loads((snapshot_dir / "snapshot.json").read_text()), project, containers)
    return containers, how


def _private_record(engine: Engine, op: str, project: str, docker_host: str | None,
                    records: list[dict]) -> tuple[dict, list[str]]:
    """Everything `restore` needs (unmasked): the containers, their images, networks and volumes,
    and the names of the volumes they mount; refused, before anything is stopped, when the
    containers could not be recreated from it."""
    image_ids = [r["Image"] for r in records]
    refs = [(r.get("Config") or {}).get("Image") for r in records]
    images = engine.inspect_images(image_ids)
    resolved = engine.inspect_images([r for r in refs if r])
    networks = engine.inspect_networks(sorted({n for r in records for n in
                                               ((r.get("NetworkSettings") or {}).get("Networks") or {})}))
    volume_names = sorted({m["Name"] for r in records for m in r.get("Mounts") or []
                           if m.get("Type") == "volume"})
    volumes = engine.inspect_volumes(volume_names)
    private = {"opId": op, "project": project, "dockerHost": docker_host, "containers": records,
               "health": {r["Name"].lstrip("/"): ((r.get("State") or {}).get("Health") or {}).get("Status")
                          for r in records},
               "images": {i: images[i] for i in images}, "refs": {r: v["Id"] for r, v in resolved.items()},
               "networks": networks, "volumes": volumes}
    try:
        create_plans(private, engine.docker_host, placeholder=True)
    except NotRestorable as error:
        raise TakeoverError(f"nothing was stopped: {error}") from None
    return private, volume_names


def _keep_images(engine: Engine, project: str, op: str, records: list[dict],
                 docker_host: str | None) -> dict[str, str]:
    """A removed container no longer holds its image: a tag keeps it from image pruning and from
    rebuild scripts dropping untagged images, so the restore finds it (runbook: cleanup)."""
    keep = {i: keep_tag(project, op, i) for i in sorted({r["Image"] for r in records})}
    for image_id, target in keep.items():
        engine.run(docker_cli.tag(image_id, target, docker_host=docker_host))
    return keep


def _container_entry(record: dict) -> dict:
    return {"name": record["Name"].lstrip("/"), "imageId": record["Image"],
            "image": (record.get("Config") or {}).get("Image"),
            "running": bool((record.get("State") or {}).get("Running")),
            "inspect": mask_container(record)}


def _stop_and_remove(engine: Engine, project: str, running: list[str], names: list[str],
                     volume_names: list[str], stop_seconds: int, docker_host: str | None) -> None:
    """Stops the running containers newest first (front ends before the database they write to),
    removes them all, and checks none is left and every volume is still there."""
    for name in running:
        engine.run(docker_cli.stop([name], timeout_seconds=stop_seconds, docker_host=docker_host),
                   timeout=stop_seconds + 30)
    engine.run(docker_cli.rm(names, docker_host=docker_host))
    left = engine.inspect_containers([c for c in engine.lines(docker_cli.ps_ids(
        labels={docker_cli.COMPOSE_PROJECT: project}, docker_host=docker_host))])
    left_names = sorted(set(names) & {c["Name"].lstrip("/") for c in left})
    gone = sorted(set(volume_names) - set(engine.inspect_volumes(volume_names)))
    if left_names or gone:
        raise TakeoverError(f"after removal: containers left {left_names}, volumes gone {gone}")


def build_parser(parser=None):
    """`takeover` and `restore` for an operator; ops' switch calls the functions directly."""
    import argparse
    parser = parser or argparse.ArgumentParser(prog="python -m takeover.compose.handover",
                                               description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="action", required=True)
    take = sub.add_parser("takeover", help="record, then stop and remove the compose containers")
    take.add_argument("snapshot", type=Path, help="the audit snapshot directory (ops audit --out)")
    take.add_argument("--compose-project", default="meeshy")
    take.add_argument("--name-prefix", default="meeshy-")
    take.add_argument("--docker-host")
    take.add_argument("--private-dir", type=Path, help="where the 0600 record with real values goes "
                      "(default: <tools dir>/takeover/PROJECT)")
    take.add_argument("--stop-seconds", type=int, default=DEFAULT_STOP_SECONDS)
    back = sub.add_parser("restore", help="bring the recorded compose deployment back and check it")
    back.add_argument("record", type=Path, help="a takeover-*.json, or the snapshot directory (newest)")
    back.add_argument("--timeout", type=float, default=DEFAULT_RESTORE_SECONDS,
                      help="seconds until every container must be ready")
    return parser


def main(argv=None) -> int:
    import sys
    args = build_parser().parse_args(argv)
    try:
        if args.action == "takeover":
            takeover(args.snapshot, project=args.compose_project, name_prefix=args.name_prefix,
                     docker_host=args.docker_host, private_dir=args.private_dir,
                     stop_seconds=args.stop_seconds)
        else:
            restore(args.record, deadline_seconds=args.timeout)
    except (TakeoverError, RecordError, DockerError) as error:
        print(f"{args.action} failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
