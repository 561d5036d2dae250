"""What a killed command leaves in Pulumi's file backend, found and resolved before any update.

- A lock: `<state>/.pulumi/locks/<org>/<project>/<stack>/<id>.json` holds the pid, user and host
  of the `pulumi` that took it. One whose process is dead (on this host) is removed and the
  operator told; one whose process lives is refused, naming it (what `pulumi cancel` would
  otherwise be used for, without ever cancelling a live update).
- Pending operations: an update killed mid-step leaves `pending_operations` in the state
  (creates, most often), which every later update carries and warns about. A refresh with
  `clear_pending_creates` resolves them; the operator is told which.
"""
from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ops import processes


class PulumiLockHeld(RuntimeError):
    """A live `pulumi` holds the stack's lock."""


@dataclass(frozen=True)
class LockFile:
    path: Path
    pid: int | None
    user: str
    host: str
    since: str

    def alive(self) -> bool:
        if self.host and self.host != socket.gethostname():
            return True      # another host's process: this one cannot tell, so it is respected
        return self.pid is not None and processes.start_ticks(self.pid) is not None


def locks(state: Path, project: str, stack: str) -> list[LockFile]:
    root = Path(state) / ".pulumi" / "locks"
    found = []
    for path in sorted(root.glob("**/*.json")) if root.is_dir() else []:
        parts = path.relative_to(root).parts
        # <org>/<project>/<stack>/<id>.json (project-scoped backend) or <stack>/<id>.json
        if len(parts) < 2 or parts[-2] != stack or (len(parts) > 2 and project not in parts[:-2]):
            continue
        try:
            content = json.loads(path.read_text())
        except (OSError, ValueError):
            content = {}
        found.append(LockFile(path, content.get("pid"), content.get("username", "?"),
                              content.get("hostname", ""), content.get("timestamp", "?")))
    return found


def clear_stale_locks(state: Path, project: str, stack: str, log) -> list[str]:
    """Removes the locks of dead `pulumi` processes; refuses when a live one holds the stack."""
    removed = []
    for lock in locks(state, project, stack):
        if lock.alive():
            raise PulumiLockHeld(
                f"stack {stack!r} is locked by a running pulumi (pid {lock.pid}, {lock.user}@"
                f"{lock.host or '?'}, since {lock.since}): an update is in progress; nothing was "
                "done (let it end; ops never cancels a live update)")
        lock.path.unlink(missing_ok=True)
        removed.append(f"pid {lock.pid} since {lock.since}")
        log(f"ops: removed a stale Pulumi lock of stack {stack!r}: its pulumi (pid {lock.pid}, "
            f"since {lock.since}) is dead")
    return removed


def pending_operations(stack) -> list[dict]:
    deployment = stack.export_stack().deployment or {}
    return list(deployment.get("pending_operations") or [])


def resolve_pending(stack, log, *, config_file: str | None = None) -> list[str]:
    """A refresh that clears the pending creates an interrupted update left; returns them."""
    pending = pending_operations(stack)
    if not pending:
        return []
    named = [f"{p.get('type', '?')} {(p.get('resource') or {}).get('urn', '?').rsplit('::', 1)[-1]}"
             for p in pending]
    log(f"ops: an interrupted update left {len(pending)} pending operation(s) "
        f"({', '.join(named)}): refreshing the stack to resolve them")
    stack.refresh(message="meeshy-ops refresh: pending operations of an interrupted update",
                  clear_pending_creates=True, color="never", suppress_progress=True,
                  on_output=lambda line: None, config_file=config_file)
    left = pending_operations(stack)
    if left:
        raise RuntimeError(f"{len(left)} pending operation(s) remain after the refresh: {left}")
    return named



CONTAINER_TYPE = "docker:index/container:Container"


def stopped_containers(deployment: dict,
                       running: Callable[[list[str]], dict[str, bool]]) -> dict[str, str]:
    """URN -> Docker name of the containers the state holds whose container is not running
    (killed, or removed): `running(names)` answers name -> running, a name missing from its
    answer is gone."""
    declared = {(r.get("outputs") or {}).get("name"): r["urn"]
                for r in deployment.get("resources") or []
                if r.get("type") == CONTAINER_TYPE and not r.get("delete")
                and (r.get("outputs") or {}).get("name")
                and (r.get("inputs") or {}).get("mustRun", True) is not False}
    if not declared:
        return {}
    states = running(sorted(declared))
    return {urn: name for name, urn in sorted(declared.items()) if not states.get(name, False)}


def docker_running(docker_host: str | None) -> Callable[[list[str]], dict[str, bool]]:
    """name -> running, from `docker container inspect` (a removed container is left out)."""
    import subprocess

    from commands.docker import container_inspect

    def ask(names: list[str]) -> dict[str, bool]:
        argv = [*container_inspect(names, docker_host=docker_host), "--format",
                "{{.Name}} {{.State.Running}}"]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        states = {}
        for line in done.stdout.splitlines():
            name, _, state = line.strip().lstrip("/").partition(" ")
            states[name] = state == "true"
        return states
    return ask


def refresh_stopped_containers(stack, log, running) -> list[str]:
    """A container killed outside Pulumi stays `created` in the state, and `up` leaves it dead
    (`unless-stopped` does not restart a killed container). A refresh of just those records them
    stopped (the provider sets must_run false), so the coming update starts them again."""
    stopped = stopped_containers(stack.export_stack().deployment or {}, running)
    targets = list(stopped)
    if targets:
        # Docker's names (a rolling container's carries its digest): what `docker logs` takes.
        log(f"ops: {len(targets)} container(s) of the stack are not running ("
            + ", ".join(stopped.values())
            + "): refreshing them so the next update starts them again")
        stack.refresh(message="meeshy-ops refresh: containers found not running", target=targets,
                      color="never", suppress_progress=True, on_output=lambda line: None)
    return targets
