"""The handover between a rolling container and the one it replaces (containers.py), so a
release drops no request.

Traefik's docker provider routes to a container once Docker reports it healthy and stops only
when Docker reports it unhealthy or it dies; between a container's stop and Traefik seeing it
die, requests still go to it and end in 502s or time out (measured: a plain release of the
gateway and the web under a steady client gave 3 HTTP 503, 1 HTTP 502 and 1 timeout). So each
rolling container gets a command of its own:

- its create waits until Docker reports the new container healthy, then for Traefik to route
  to it: only then may the update end and remove the old one;
- its delete, which Pulumi runs before the old container's (the command depends on it), drains
  that container: a marker file makes its health check fail, Docker reports it unhealthy,
  Traefik stops routing to it, and only then is it stopped.

And before a rolling container is created, `clear_command` drains and removes any container
still holding its name: a failed update leaves the old container beside the new one (pending
deletion until the end of the next update), and the rollback re-creates that very name.

A rolling container's health check therefore runs through `sh`, failing while the marker is
there, at a short interval so the drain takes seconds. Everything but `handover_command` is pure.

While the stack is under maintenance no public request reaches any of its services (Traefik
sends them all to the page), so the waits for Traefik are skipped: `quiet` is a shell test,
true while the page's route is in effect (`maintenance_test`). They were about
10 s of a switch's release phase, inside its window. The test runs when the command does, not
when it is declared: a container's drain is declared a release before it runs.
"""
from __future__ import annotations

import shlex
from typing import Any, Sequence

import pulumi

from commands.docker import docker
from components.platform.routing import DYNAMIC_CONFIG_PATH
from components.release.local_command import local_command
from config.naming import StackNames

DRAIN_MARKER = "/tmp/meeshy-drain"
# Docker's health-check interval and retries of a rolling container: unhealthy within
# INTERVAL * RETRIES of the marker; a single slow probe alone does not drop a serving container.
INTERVAL = "2s"
RETRIES = 2
# Traefik applies a provider's change at most every 2 s (providersThrottleDuration); one more
# second for the reload itself.
TRAEFIK_SETTLE_SECONDS = 3
WAIT_SECONDS = 180
DRAIN_SECONDS = 30


def drain_test(probe: Sequence[str]) -> list[str]:
    """The Docker health check of a rolling container: its probe, failing once drained."""
    return ["CMD", "sh", "-c", f'test ! -e {DRAIN_MARKER} && exec "$@"', "sh", *probe]


_WAIT_FOR = (
    'name=$1 want=$2 limit=$3; shift 3; deadline=$(( $(date +%s) + limit ))\n'
    'while :; do\n'
    '  seen=$("$@" 2>/dev/null) || seen=gone\n'
    '  [ "$seen" = "$want" ] && exit 0\n'
    '  if [ "$want" = unhealthy ] && [ "$seen" = gone ]; then exit 0; fi\n'
    '  if [ "$(date +%s)" -ge "$deadline" ]; then\n'
    '    echo "container $name is $seen after ${limit}s; waited for $want" >&2; exit 1\n'
    '  fi\n'
    '  sleep 1\n'
    'done\n')


def _wait_for(ref: str, want: str, docker_host: str | None, limit: int, label: str) -> str:
    """Waits until Docker reports the health of container `ref` (`label` in messages) as
    `want` (a container gone counts as unhealthy: it serves nothing)."""
    status = [*docker(docker_host), "inspect", "-f", "{{.State.Health.Status}}", ref]
    return shlex.join(["sh", "-c", _WAIT_FOR, "sh", label, want, str(limit), *status])


def maintenance_test(names: StackNames, docker_host: str | None = None) -> str:
    """A shell test, true while the stack's maintenance route is in Traefik's dynamic file (the
    router maintenance_route.routed_config writes); false when that cannot be read, so a doubt
    costs the waits, never a request."""
    router = f"    {names.router('maintenance')}:"
    grep = [*docker(docker_host), "exec", names.container("traefik"), "grep", "-qF", router,
            DYNAMIC_CONFIG_PATH]
    return f"{shlex.join(grep)} 2>/dev/null"


def _unless(quiet: str | None, wait: str) -> str:
    """`wait`, skipped while `quiet` (a shell test) holds."""
    return f"{{ {quiet} || {{ {wait}; }}; }}" if quiet else wait


def ready_script(ref: str, docker_host: str | None = None, label: str | None = None,
                 quiet: str | None = None) -> str:
    """The create: the new container healthy, then Traefik routing to it (unless `quiet`)."""
    waited = _wait_for(ref, "healthy", docker_host, WAIT_SECONDS, label or ref)
    return f"{waited} && {_unless(quiet, f'sleep {TRAEFIK_SETTLE_SECONDS}')}"


def drain_script(ref: str, docker_host: str | None = None, label: str | None = None,
                 quiet: str | None = None) -> str:
    """The delete: the old container marked, unhealthy, out of Traefik (the waits skipped while
    `quiet` holds); nothing to do for a container already gone. A drain that does not end in
    DRAIN_SECONDS is said and the container stopped anyway: the release is done, and failing
    its update now would undo it.
    `ref` is best the container's id: a container re-created under the same name (the rollback
    of a failed release) must not be drained in the old one's place."""
    label = label or ref
    mark = shlex.join([*docker(docker_host), "exec", ref, "touch", DRAIN_MARKER])
    drained = _wait_for(ref, "unhealthy", docker_host, DRAIN_SECONDS, label)
    said = shlex.quote(f"stopping {label} before Traefik let it go")
    waits = f"{{ {drained} || echo {said} >&2; }}; sleep {TRAEFIK_SETTLE_SECONDS}"
    return f"if {mark} 2>/dev/null; then {_unless(quiet, waits)}; fi"


def clear_script(name: str, docker_host: str | None = None, quiet: str | None = None) -> str:
    """Before a rolling container is created under `name`: a container already there under that
    name (one a failed update left pending deletion, which Pulumi removes only at the end of the
    next update, such as the rollback re-creating it) is drained, then removed."""
    exists = shlex.join([*docker(docker_host), "container", "inspect", name])
    remove = shlex.join([*docker(docker_host), "rm", "-f", name])
    return (f"if {exists} >/dev/null 2>&1; then {drain_script(name, docker_host, quiet=quiet)}; "
            f"{remove} >/dev/null; fi")


def clear_command(name: str, docker_name: Any, docker_host: str | None, *,
                  parent: pulumi.Resource, depends_on: Sequence[pulumi.Resource] = (),
                  quiet: str | None = None) -> Any:
    """The command a rolling container depends on: clear_script, run again whenever the
    container's name changes (the only time a container is created under it)."""
    return local_command(
        f"{name}-clear", create=pulumi.Output.from_input(docker_name).apply(
            lambda n: clear_script(n, docker_host, quiet)),
        triggers=[docker_name],
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on)))


def handover_command(name: str, container: Any, docker_host: str | None, *,
                     parent: pulumi.Resource, after: Sequence[pulumi.Resource] = (),
                     quiet: str | None = None) -> Any:
    """The handover command of `container` (a rolling docker.Container): replaced with it (its
    Docker id is the trigger: a container re-created under the same name, as by the rollback of
    a failed release, is waited for too), create-before-delete like it. `after`: the release's health
    gate, so a release the gate refuses fails there, without waiting for a container that
    never becomes healthy."""
    named = pulumi.Output.all(container.id, container.name)
    return local_command(
        f"{name}-handover",
        create=named.apply(lambda v: ready_script(v[0], docker_host, label=v[1], quiet=quiet)),
        delete=named.apply(lambda v: drain_script(v[0], docker_host, label=v[1], quiet=quiet)),
        triggers=[container.id],
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[container, *after]))
