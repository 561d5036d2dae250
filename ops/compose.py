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

Both are phases ops' switch can run (`python -m ops.compose takeover|restore` for an operator).
Nothing is stopped before every container is proven re-creatable and both records are written.
"""
from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Callable

from ops import docker_cli
from ops.audit import find_containers
from ops.audit_engine import DockerError, Engine
from ops.audit_mask import mask_container, mask_deep
from ops.compose_record import (RecordError, default_private_dir, differences, latest_record,
                                private_directory, read_private, write_masked, write_private)
from ops.compose_wait import WaitFailed, depends_on, wait_ready
from ops.docker_cli_create import NotRestorable, create_plan

DEFAULT_STOP_SECONDS = 30
DEFAULT_RESTORE_SECONDS = 300.0


class TakeoverError(RuntimeError):
    def __init__(self, message: str, report: dict | None = None):
        super().__init__(message)
        self.report = report


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _plans(private: dict, engine: Engine, *, placeholder: bool = False, files_dir: Path | None = None):
    """(container record, plan) in creation order; raises NotRestorable before anything runs."""
    plans = []
    for record in private["containers"]:
        name = record["Name"].lstrip("/")
        image = private["images"].get(record["Image"])
        if image is None:
            raise NotRestorable(f"container {name}: its image {record['Image']} is not on the engine")
        ref = (record.get("Config") or {}).get("Image")
        use = ref if ref and private.get("refs", {}).get(ref) == record["Image"] else record["Image"]
        base = Path("/nonexistent") if placeholder else files_dir
        plans.append((record, create_plan(record, image.get("Config") or {}, image=use,
                                          env_file=str(base / f"{name}.env"),
                                          label_file=str(base / f"{name}.labels"),
                                          docker_host=engine.docker_host)))
    return plans


def keep_tag(project: str, op: str, image_id: str) -> str:
    return f"meeshy-takeover/{project.lower()}:{op.lower()}-{image_id.split(':')[-1][:12]}"


def takeover(snapshot_dir: Path, *, project: str = "meeshy", name_prefix: str = "meeshy-",
             docker_host: str | None = None, private_dir: Path | None = None,
             stop_seconds: int = DEFAULT_STOP_SECONDS, engine: Engine | None = None,
             log: Callable[[str], None] = print) -> dict:
    engine = engine or Engine(docker_host=docker_host)
    snapshot_dir = Path(snapshot_dir)
    if not (snapshot_dir / "snapshot.json").is_file():
        raise TakeoverError(f"{snapshot_dir} is not an audit snapshot (no snapshot.json): run "
                            "`ops audit STACK --out DIR` first and keep DIR")
    started, clock = _now(), time.monotonic()
    op = "takeover-" + time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    containers, how = find_containers(engine, project, name_prefix)
    if not containers:
        raise TakeoverError(f"no container of compose project {project!r} (nor named {name_prefix}*): "
                            "nothing to take over; check --compose-project against the audit")
    records = list(containers.values())
    image_ids = [r["Image"] for r in records]
    refs = [(r.get("Config") or {}).get("Image") for r in records]
    images = engine.inspect_images(image_ids)
    resolved = engine.inspect_images([r for r in refs if r])
    networks = engine.inspect_networks(sorted({n for r in records for n in
                                               ((r.get("NetworkSettings") or {}).get("Networks") or {})}))
    volume_names = sorted({m["Name"] for r in records for m in r.get("Mounts") or [] if m.get("Type") == "volume"})
    volumes = engine.inspect_volumes(volume_names)
    private = {"opId": op, "project": project, "dockerHost": docker_host, "containers": records,
               "health": {r["Name"].lstrip("/"): ((r.get("State") or {}).get("Health") or {}).get("Status")
                          for r in records},
               "images": {i: images[i] for i in images}, "refs": {r: v["Id"] for r, v in resolved.items()},
               "networks": networks, "volumes": volumes}
    try:
        _plans(private, engine, placeholder=True)
    except NotRestorable as error:
        raise TakeoverError(f"nothing was stopped: {error}") from None
    # A removed container no longer holds its image: a tag keeps it from image pruning and from
    # rebuild scripts dropping untagged images, so the restore finds it (runbook: cleanup).
    keep = {i: keep_tag(project, op, i) for i in sorted(set(image_ids))}
    for image_id, target in keep.items():
        engine.run(docker_cli.tag(image_id, target, docker_host=docker_host))
    private["keepTags"] = keep
    private_path = Path(private_dir or default_private_dir(project)) / f"{op}.json"
    digest = write_private(private_path, private)
    masked_path = snapshot_dir / f"{op}.json"
    report = {"opId": op, "project": project, "foundBy": how, "started": started,
              "privateRecord": str(private_path), "privateSha256": digest,
              "containers": [{"name": r["Name"].lstrip("/"), "imageId": r["Image"],
                              "image": (r.get("Config") or {}).get("Image"),
                              "running": bool((r.get("State") or {}).get("Running")),
                              "inspect": mask_container(r)} for r in records],
              "volumes": volume_names, "networks": sorted(networks), "keepTags": sorted(keep.values()),
              "result": "recorded"}
    write_masked(masked_path, report)
    log(f"takeover {op}: recorded {len(records)} container(s) in {masked_path} "
        f"(private record {private_path}, mode 0600)")
    names = [r["Name"].lstrip("/") for r in records]
    running = [r["Name"].lstrip("/") for r in reversed(records) if (r.get("State") or {}).get("Running")]
    try:
        for name in running:     # newest first: front ends before the database they write to
            engine.run(docker_cli.stop([name], timeout_seconds=stop_seconds, docker_host=docker_host),
                       timeout=stop_seconds + 30)
        engine.run(docker_cli.rm(names, docker_host=docker_host))
        left = engine.inspect_containers([c for c in engine.lines(docker_cli.ps_ids(
            labels={docker_cli.COMPOSE_PROJECT: project}, docker_host=docker_host))])
        left_names = sorted(set(names) & {c["Name"].lstrip("/") for c in left})
        gone = sorted(set(volume_names) - set(engine.inspect_volumes(volume_names)))
        if left_names or gone:
            raise TakeoverError(f"after removal: containers left {left_names}, volumes gone {gone}")
    except (DockerError, TakeoverError) as error:
        report.update(result="failed", error=str(error), ended=_now())
        write_masked(masked_path, report)
        raise TakeoverError(f"takeover {op} failed: {error}; `restore` brings back what was "
                            f"recorded ({masked_path})", report) from None
    report.update(result="taken over", stopped=running, removed=names, volumesIntact=volume_names,
                  ended=_now(), seconds=round(time.monotonic() - clock, 3), record=str(masked_path))
    write_masked(masked_path, report)
    log(f"takeover {op}: stopped {len(running)}, removed {len(names)} container(s); "
        f"{len(volume_names)} volume(s) untouched ({report['seconds']} s)")
    return report


def restore(record: Path, *, deadline_seconds: float = DEFAULT_RESTORE_SECONDS,
            engine: Engine | None = None, log: Callable[[str], None] = print) -> dict:
    masked_path = latest_record(record)
    masked = json.loads(masked_path.read_text())
    private = read_private(Path(masked["privateRecord"]), masked.get("privateSha256"))
    engine = engine or Engine(docker_host=private.get("dockerHost"))
    clock, deadline = time.monotonic(), time.monotonic() + deadline_seconds
    report = {"opId": masked["opId"], "record": str(masked_path), "started": _now(), "created": [],
              "started containers": [], "networksCreated": [], "differences": [], "health": {}}
    try:
        _check_and_prepare(private, engine, report, log)
        # Names are re-resolved now: a tag may have moved since the takeover (a new release).
        refs = [(r.get("Config") or {}).get("Image") for r in private["containers"]]
        private["refs"] = {r: v["Id"] for r, v in engine.inspect_images([r for r in refs if r]).items()}
        done = _recreate(private, engine, report, deadline, log,
                         files_root=Path(masked["privateRecord"]).parent)
        # Healthy when recorded: must be healthy again; not healthy then: must at least run.
        recorded = private.get("health") or {}
        report["health"] = wait_ready(engine, [(n, "service_healthy" if recorded.get(n) in ("healthy", None)
                                               else "service_started") for n in done],
                                      deadline=deadline, log=log)
        report["healthWhenRecorded"] = {n: recorded.get(n) for n in done}
        restored = {c["Name"].lstrip("/"): c for c in engine.inspect_containers(
            [r["Name"].lstrip("/") for r in private["containers"]])}
        for record_ in private["containers"]:
            report["differences"] += differences(record_, restored[record_["Name"].lstrip("/")])
        if report["differences"]:
            raise TakeoverError("restored containers differ from their record: "
                                + "; ".join(report["differences"]))
    except (DockerError, NotRestorable, WaitFailed, TakeoverError, RecordError) as error:
        report.update(result="failed", error=str(mask_deep(str(error))), ended=_now(),
                      seconds=round(time.monotonic() - clock, 3))
        write_masked(masked_path.with_name(masked_path.stem + "-restore.json"), report)
        raise TakeoverError(f"restore of {masked['opId']} failed: {report['error']}", report) from None
    report.update(result="restored", ended=_now(), seconds=round(time.monotonic() - clock, 3))
    write_masked(masked_path.with_name(masked_path.stem + "-restore.json"), report)
    log(f"restore {masked['opId']}: {len(report['created'])} container(s) re-created, "
        f"{len(done)} started and ready, identical to their record ({report['seconds']} s)")
    return report


def _check_and_prepare(private: dict, engine: Engine, report: dict, log) -> None:
    """Refuses before creating anything when an image or volume is gone (a mount of a missing
    volume would silently create an empty one) or a recorded name is taken by another container;
    re-creates a missing network from its record."""
    records = private["containers"]
    gone = sorted(set(r["Image"] for r in records) - set(engine.inspect_images([r["Image"] for r in records])))
    if gone:
        raise TakeoverError(f"image(s) no longer on the engine: {', '.join(gone)}")
    wanted = sorted({m["Name"] for r in records for m in r.get("Mounts") or [] if m.get("Type") == "volume"})
    missing = sorted(set(wanted) - set(engine.inspect_volumes(wanted)))
    if missing:
        raise TakeoverError(f"volume(s) missing, refusing to mount them empty: {', '.join(missing)}")
    everything = engine.inspect_containers(engine.lines(docker_cli.ps_ids(docker_host=engine.docker_host)))
    existing = {c["Name"].lstrip("/"): c["Id"] for c in everything}
    recorded_ids = {r["Id"] for r in records}
    # Two database servers on one data directory corrupt it: the new production (or anything
    # else) must be stopped before the recorded containers get their volumes back.
    users = sorted(f"{m['Name']} (by {c['Name'].lstrip('/')})" for c in everything
                   if (c.get("State") or {}).get("Running") and c["Id"] not in recorded_ids
                   for m in c.get("Mounts") or [] if m.get("Type") == "volume" and m.get("Name") in wanted)
    if users:
        raise TakeoverError(f"volume(s) in use by running containers outside the record: {', '.join(users)}; "
                            "stop them first (e.g. the stack that took over)")
    for r in records:
        name = r["Name"].lstrip("/")
        if name in existing and existing[name] != r["Id"]:
            raise TakeoverError(f"container name {name} is taken by another container "
                                f"({existing[name][:12]}): stop and remove the deployment that uses it first")
    present = engine.inspect_networks(list(private["networks"]))
    for name, net in private["networks"].items():
        if name not in present and name not in ("bridge", "host", "none"):
            engine.run(docker_cli.network_create(net, docker_host=engine.docker_host))
            report["networksCreated"].append(name)
            log(f"restore: network {name} re-created from its record")
    report["existing"] = sorted(n for n in existing if n in {r["Name"].lstrip("/") for r in records})


def _recreate(private: dict, engine: Engine, report: dict, deadline: float, log, *,
              files_root: Path) -> list[str]:
    started: list[str] = []
    service_of = {r["Name"].lstrip("/"): ((r.get("Config") or {}).get("Labels") or {}).get(
        docker_cli.COMPOSE_SERVICE) for r in private["containers"]}
    # The env and label files hold real values: beside the private record, gone after create.
    with tempfile.TemporaryDirectory(dir=private_directory(files_root), prefix="restore-") as tmp:
        os.chmod(tmp, 0o700)
        for record, plan in _plans(private, engine, files_dir=Path(tmp)):
            if plan.name not in report["existing"]:
                for path, text in ((f"{tmp}/{plan.name}.env", plan.env_file),
                                   (f"{tmp}/{plan.name}.labels", plan.label_file)):
                    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                    with os.fdopen(fd, "w") as handle:
                        handle.write(text)
                engine.run(plan.create)
                for connect in plan.connects:
                    engine.run(connect)
                report["created"].append(plan.name)
            if plan.start:
                needs = depends_on(record, service_of)
                if needs:
                    wait_ready(engine, needs, deadline=deadline, log=log)
                engine.run(docker_cli.start([plan.name], docker_host=engine.docker_host))
                started.append(plan.name)
                report["started containers"].append(plan.name)
    return started


def build_parser(parser=None):
    """`takeover` and `restore` for an operator; ops' switch calls the functions directly."""
    import argparse
    parser = parser or argparse.ArgumentParser(prog="python -m ops.compose", description=__doc__.split("\n\n")[0])
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
