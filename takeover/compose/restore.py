"""The restore half of the takeover: the compose deployment re-created from the private record
(takeover/compose/handover.py explains the whole), refusing before it creates anything when that would not
give back exactly what was recorded."""
from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Callable

from commands import docker as docker_cli
from commands.docker_create import NotRestorable
from takeover.compose.record import (
    RecordError,
    TakeoverError,
    create_plans,
    differences,
    latest_record,
    now,
    private_directory,
    read_private,
    write_masked,
)
from takeover.compose.wait import WaitFailed, depends_on, wait_ready
from takeover.docker_host import DockerError, Engine
from takeover.mask import mask_deep

DEFAULT_RESTORE_SECONDS = 300.0


def restore(record: Path, *, deadline_seconds: float = DEFAULT_RESTORE_SECONDS,
            engine: Engine | None = None, log: Callable[[str], None] = print) -> dict:
    masked_path = latest_record(record)
    masked = json.loads(masked_path.read_text())
    private = read_private(Path(masked["privateRecord"]), masked.get("privateSha256"))
    engine = engine or Engine(docker_host=private.get("dockerHost"))
    clock, deadline = time.monotonic(), time.monotonic() + deadline_seconds
    report_path = masked_path.with_name(masked_path.stem + "-restore.json")
    # Containers an earlier, interrupted attempt created from this record are ours to replace.
    earlier = json.loads(report_path.read_text()).get("createdIds", {}) if report_path.is_file() else {}
    report = {"opId": masked["opId"], "record": str(masked_path), "started": now(), "created": [],
              "createdIds": {}, "started containers": [], "networksCreated": [], "differences": [],
              "health": {}, "replacedFromEarlierAttempt": []}
    try:
        _check_and_prepare(private, engine, report, log, earlier=set(earlier.values()))
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
        report.update(result="failed", error=str(mask_deep(str(error))), ended=now(),
                      seconds=round(time.monotonic() - clock, 3))
        report["createdIds"] = {**earlier, **report["createdIds"]}   # still ours on the next attempt
        write_masked(report_path, report)
        raise TakeoverError(f"restore of {masked['opId']} failed: {report['error']}", report) from None
    report.update(result="restored", ended=now(), seconds=round(time.monotonic() - clock, 3))
    write_masked(report_path, report)
    log(f"restore {masked['opId']}: {len(report['created'])} container(s) re-created, "
        f"{len(done)} started and ready, identical to their record ({report['seconds']} s)")
    return report


def _check_and_prepare(private: dict, engine: Engine, report: dict, log, *, earlier: set[str]) -> None:
    """Refuses before creating anything when an image or volume is gone (a mount of a missing
    volume would silently create an empty one) or a recorded name is taken by another container;
    removes what an earlier attempt created (`earlier` ids); re-creates a missing network."""
    records = private["containers"]
    recorded_images = {r["Image"] for r in records}
    gone = sorted(recorded_images - set(engine.inspect_images([r["Image"] for r in records])))
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
                   if (c.get("State") or {}).get("Running") and c["Id"] not in recorded_ids | earlier
                   for m in c.get("Mounts") or [] if m.get("Type") == "volume" and m.get("Name") in wanted)
    if users:
        raise TakeoverError(f"volume(s) in use by running containers outside the record: {', '.join(users)}; "
                            "stop them first (e.g. the stack that took over)")
    for r in records:
        name = r["Name"].lstrip("/")
        if existing.get(name) in earlier:
            engine.run(docker_cli.rm([name], force=True, docker_host=engine.docker_host))
            report["replacedFromEarlierAttempt"].append(name)
            del existing[name]
        elif name in existing and existing[name] != r["Id"]:
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
        for record, plan in create_plans(private, engine.docker_host, files_dir=Path(tmp)):
            if plan.name not in report["existing"]:
                for path, text in ((f"{tmp}/{plan.name}.env", plan.env_file),
                                   (f"{tmp}/{plan.name}.labels", plan.label_file)):
                    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                    with os.fdopen(fd, "w") as handle:
                        handle.write(text)
                report["createdIds"][plan.name] = engine.run(plan.create).stdout.strip()
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
