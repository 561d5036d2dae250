"""Waiting, with a deadline, until restored containers are ready the way compose would wait:
running and healthy (or running, without a healthcheck), or for a one-shot dependency,
exited with status 0. A failure names the container and its last state and health answer."""
from __future__ import annotations

import time
from typing import Callable, Iterable

from commands.docker import container_inspect
from takeover.docker_host import Engine
from takeover.mask import mask_string

COMPOSE_DEPENDS_ON = "com.docker.compose.depends_on"
POLL_SECONDS = 1.0


class WaitFailed(RuntimeError):
    pass


def depends_on(record: dict, service_containers: dict[str, str | None]) -> list[tuple[str, str]]:
    """(container, condition) this one waits for, from compose's depends_on label
    (`database:service_healthy:false,mongo-init:service_completed_successfully:false`)."""
    label = ((record.get("Config") or {}).get("Labels") or {}).get(COMPOSE_DEPENDS_ON) or ""
    by_service = {service: name for name, service in service_containers.items() if service}
    out = []
    for item in filter(None, (part.strip() for part in label.split(","))):
        service, _, rest = item.partition(":")
        condition = rest.split(":", 1)[0] or "service_started"
        if service in by_service:
            out.append((by_service[service], condition))
    return out


def _ready(state: dict, condition: str) -> tuple[bool, str]:
    health = (state.get("Health") or {}).get("Status")
    if condition == "service_completed_successfully":
        return (state.get("Status") == "exited" and state.get("ExitCode") == 0), state.get("Status", "?")
    if not state.get("Running") or state.get("Restarting"):
        return False, state.get("Status", "?")
    if condition == "service_started":
        return True, "running"
    return (health in (None, "healthy")), f"running, health {health or 'none'}"


def _last_probe(state: dict) -> str:
    log = (state.get("Health") or {}).get("Log") or []
    if not log:
        return ""
    last = log[-1]
    output = mask_string((last.get("Output") or "").strip())[-200:]
    return f"; last probe exit {last.get('ExitCode')}: {output}"


def wait_ready(engine: Engine, targets: Iterable[str | tuple[str, str]], *, deadline: float,
               log: Callable[[str], None] = print) -> dict[str, dict]:
    """Polls `docker container inspect` until every target is ready; raises WaitFailed at the
    deadline (a monotonic time) naming what is not. Returns {name: {state, seconds}}."""
    wanted = {(t, "service_healthy") if isinstance(t, str) else t for t in targets}
    start = time.monotonic()
    result: dict[str, dict] = {}
    last: dict[str, str] = {}
    while True:
        pending = [(n, c) for n, c in sorted(wanted) if n not in result]
        if not pending:
            return result
        records = {r["Name"].lstrip("/"): r for r in engine.json(
            container_inspect([n for n, _ in pending], docker_host=engine.docker_host), timeout=30)}
        for name, condition in pending:
            state = (records.get(name) or {}).get("State") or {}
            ok, what = _ready(state, condition)
            last[name] = what + _last_probe(state)
            if ok:
                result[name] = {"state": what, "seconds": round(time.monotonic() - start, 3)}
                log(f"restore: {name} ready ({what}) after {result[name]['seconds']} s")
            elif state.get("Status") == "exited" and condition != "service_completed_successfully" \
                    and (records[name].get("HostConfig") or {}).get("RestartPolicy", {}).get("Name") \
                    in (None, "", "no"):
                raise WaitFailed(f"{name} exited with status {state.get('ExitCode')} and will not restart")
        if time.monotonic() >= deadline:
            raise WaitFailed("not ready before the deadline: " + "; ".join(
                f"{n} ({last.get(n, '?')})" for n, _ in pending if n not in result))
        time.sleep(POLL_SECONDS)
