"""The way back from a takeover switch that failed, or from one that succeeded (`rollback
--to-compose`, ops/switch/takeover_rollback.py): the stack's containers go (its adopted volumes
never), then the compose deployment is re-created from the takeover's record and must come back
ready, then the stack's state is refreshed so it no longer lists the removed containers.

    remove_stack_containers(stack, keep_volumes=...)  -> report; stops (gracefully) and removes
                                    every container labelled meeshy.stack=STACK, checks that
                                    none is left and that every kept volume still exists
    give_back_to_compose(taken, ...)                  -> report; the whole order above, each step
                                    given as a callable so the switch's tests run it on fakes

Why the docker CLI and not `pulumi destroy`: `docker rm` (commands/docker.py rm, never `--volumes`)
cannot delete a named volume at all, so the adopted data is safe by construction. A destroy is
blocked by the protected volumes; with `--exclude-protected` (the SDK offers it) or with the
volumes deleted from the state first, their safety would rest on every adopted volume being
marked protected in a state a failed update may have left half-written, it would also remove
the stack's networks and images, and state surgery would make the stack forget its adoption.
It is also what docs/runbook.md (section 3) has an operator do by hand.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from commands import docker as docker_cli
from config.naming import STACK_LABEL
from takeover.compose.record import TakeoverError, now
from takeover.docker_host import Engine

DEFAULT_STOP_SECONDS = 30


def check_takeover_changes(audit_dir: Path, stack: str, *,
                           describe: Callable[[str], dict] | None = None,
                           log: Callable[[str], None] = print) -> dict:
    """Before any compose container stops: prints how each audited container's configuration
    differs from what the stack deploys in its place, and refuses (TakeoverError) when a
    variable or mount the compose container had would disappear without the operator listing
    it in AUDIT_DIR/intended.txt. `describe` (stack -> containers) is for tests."""
    from takeover.audit import config_diff as audit_config
    found = audit_config.differences(audit_dir, (describe or audit_config.expected_stack)(stack))
    for line in audit_config.render(found):
        log(f"takeover changes: {line}")
    refused = audit_config.disappearing(found, audit_config.intended(audit_dir))
    if refused:
        raise TakeoverError(
            f"{len(refused)} variable(s) or mount(s) of the compose deployment would disappear: "
            f"{'; '.join(refused)}. Set them in meeshy:services (docs/configuration.md), or list "
            f"each as intended ('service:NAME' a line) in {audit_dir / audit_config.INTENDED_FILE}")
    return {"result": "checked", "differences": found}


def remove_stack_containers(stack: str, *, keep_volumes: list[str], engine: Engine | None = None,
                            docker_host: str | None = None, stop_seconds: int = DEFAULT_STOP_SECONDS,
                            log: Callable[[str], None] = print) -> dict:
    engine = engine or Engine(docker_host=docker_host)
    labels = {STACK_LABEL: stack}
    records = engine.inspect_containers(
        engine.lines(docker_cli.ps_ids(labels=labels, docker_host=engine.docker_host)))
    names = [r["Name"].lstrip("/") for r in records]
    running = [r["Name"].lstrip("/") for r in records if (r.get("State") or {}).get("Running")]
    mounted = {m["Name"] for r in records for m in r.get("Mounts") or [] if m.get("Type") == "volume"}
    volumes = sorted(set(keep_volumes) | mounted)
    present = set(engine.inspect_volumes(volumes))
    if running:
        # A graceful stop first: the database server must shut down cleanly before the compose
        # database starts on the same data directory.
        engine.run(docker_cli.stop(running, timeout_seconds=stop_seconds, docker_host=engine.docker_host),
                   timeout=stop_seconds + 30)
    if names:
        engine.run(docker_cli.rm(names, force=True, docker_host=engine.docker_host))
    left = engine.lines(docker_cli.ps_ids(labels=labels, docker_host=engine.docker_host))
    gone = sorted(present - set(engine.inspect_volumes(volumes)))
    if left or gone:
        raise TakeoverError(f"after removing stack {stack}'s containers: {len(left)} container(s) "
                            f"left, volume(s) gone: {gone}")
    log(f"stack {stack}: stopped {len(running)}, removed {len(names)} container(s); "
        f"{len(volumes)} volume(s) untouched")
    return {"result": "removed", "stopped": running, "removed": names,
            "volumesIntact": sorted(present), "volumesMissingBefore": sorted(set(volumes) - present)}


def give_back_to_compose(taken: dict, *, remove_stack: Callable[[list[str]], dict],
                         restore_compose: Callable[[], dict],
                         refresh_state: Callable[[], dict] | None = None,
                         log: Callable[[str], None] = print) -> dict:
    """`taken`: the takeover's report (or the one a failed takeover carried). Returns the
    report with result `restored` only when the compose deployment is back and ready."""
    report = {"takeover": taken.get("opId"), "started": now(), "steps": []}

    def fail(step: str, error: Exception) -> dict:
        report.update(result="failed", failedStep=step, error=str(error), ended=now())
        if getattr(error, "report", None):
            report[step] = error.report
        log(f"giving production back to compose FAILED at {step}: {error}")
        return report

    # Step 1 is never skipped: restore refuses (rightly) while a running container of the stack
    # mounts a recorded volume, and a container name of the stack may be one compose needs.
    try:
        report["stackContainers"] = remove_stack(list(taken.get("volumes") or []))
        report["steps"].append("remove-stack-containers")
    except Exception as error:     # noqa: BLE001 - reported; the exit code says rollback failed
        return fail("stackContainers", error)
    try:
        restored = restore_compose()
        report["restore"] = restored
        report["steps"].append("restore")
    except Exception as error:     # noqa: BLE001
        return fail("restore", error)
    # The restore waits, bounded, until every container it started is ready and compares each
    # with its record; this checks that its report says so before calling production back.
    started = set(restored.get("started containers") or [])
    not_ready = sorted(started - set(restored.get("health") or {}))
    result = restored.get("result")
    problems = [f"restore result {result!r}"] if result != "restored" else []
    problems += [f"not ready: {', '.join(not_ready)}"] if not_ready else []
    problems += list(restored.get("differences") or [])
    report["health"] = {"ok": not problems, "containers": restored.get("health") or {}, "problems": problems}
    report["steps"].append("health-check")
    if problems:
        return fail("health", RuntimeError("; ".join(problems)))
    if refresh_state is not None:
        # The stack's state still lists the containers removed above; a refresh (a read, it
        # changes nothing on the host) drops them so the next switch creates them again.
        try:
            report["stateRefresh"] = refresh_state()
        except Exception as error:     # noqa: BLE001 - compose serves again; only reported
            report["stateRefresh"] = {"result": "failed", "error": str(error),
                                      "then": "run `pulumi refresh` on the stack before the next switch"}
    report.update(result="restored", ended=now())
    return report


def give_back_stack(runner, taken: dict, restore_compose: Callable[[], dict], log, *,
                    remove_stack: Callable[[list[str]], dict] | None = None,
                    refresh_state: Callable[[], dict] | None = None) -> dict:
    """give_back_to_compose for this runner's stack: its containers removed (never a volume),
    compose brought back by `restore_compose`, the stack's state refreshed."""
    return give_back_to_compose(
        taken, log=log, restore_compose=restore_compose,
        remove_stack=remove_stack or (lambda volumes: remove_stack_containers(
            runner.stack_name, keep_volumes=volumes, log=log)),
        refresh_state=refresh_state or (lambda: refresh_state_of(runner)))


def refresh_state_of(runner) -> dict:
    result = runner.stack.refresh(message="meeshy-ops refresh after giving production back to compose",
                                  color="never", suppress_progress=True, on_output=lambda line: None)
    return {"result": result.summary.result,
            "resourceChanges": dict(result.summary.resource_changes or {})}
