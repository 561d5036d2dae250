"""The maintenance page's route: a router in Traefik's file provider, written into the running
Traefik by a command, never a label on a container.

Docker labels cannot change in place, so a routed maintenance container had to be replaced at
every flip, and Traefik kept sending requests to the stopping nginx for a moment after the flip
off: the load saw HTTP 502s there, writes without a definite answer. Now the page's container
runs unrouted and is never touched by a flip; turning maintenance on adds a router (priority
above every label router) to Traefik's dynamic file and waits until Traefik answers the public
hosts with the page; turning it off writes the file back without it and waits until Traefik no
longer does. nginx keeps serving throughout, so a request routed to it just before the flip off
still gets its 503 with Retry-After.

The file holds the stack's shared middlewares too (traefik.DYNAMIC_CONFIG): it is the file
Traefik's file provider watches, uploaded as DYNAMIC_CONFIG when its container is created.
Everything here is pure: strings and argument lists.
"""
from __future__ import annotations

import shlex
from dataclasses import dataclass

from commands.docker import docker
from components.platform.routing import MAINTENANCE_PRIORITY, host_rule
from components.platform.traefik import DYNAMIC_CONFIG, DYNAMIC_CONFIG_PATH
from config.settings import Settings

# The header the page's health answer carries: the probe tells the page from whatever else
# answers the path (the gateway's 404) by it, whatever tool the page's image has.
MARK_HEADER = "X-Meeshy-Maintenance"
MARK_VALUE = "on"
# The command's environment: the file with the page routed, and without (for the flip off).
ROUTED_ENV = "MEESHY_TRAEFIK_ROUTED"
BASE_ENV = "MEESHY_TRAEFIK_BASE"
# How long a flip may take to show in Traefik's answers (its file provider reloads within
# seconds; a bounded wait fails the update instead of leaving writes on or off silently).
FLIP_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class RouteTargets:
    traefik: str        # Traefik's container name
    page: str           # the maintenance page's container name
    host: str           # a public host the probe asks for
    health_path: str    # the page's health path (it answers 200 with MARK_HEADER)
    docker_host: str | None = None


def route_targets(settings: Settings, health_path: str) -> RouteTargets:
    names = settings.names
    return RouteTargets(names.container("traefik"), names.container("maintenance"),
                        names.public_hosts[0], health_path, settings.docker_host)


def routed_config(settings: Settings, port: int, resolver: str | None) -> str:
    """Traefik's dynamic file with the page routed at every public host of the stack."""
    names = settings.names
    router = names.router("maintenance")
    tls = f"\n        certResolver: {resolver}" if resolver else " {}"
    return (f"{DYNAMIC_CONFIG}"
            f"  routers:\n"
            f"    {router}:\n"
            f"      rule: \"{host_rule(names.public_hosts)}\"\n"
            f"      entryPoints: [websecure]\n"
            f"      priority: {MAINTENANCE_PRIORITY}\n"
            f"      service: {router}\n"
            f"      tls:{tls}\n"
            f"  services:\n"
            f"    {router}:\n"
            f"      loadBalancer:\n"
            f"        servers:\n"
            f"          - url: \"http://{names.container('maintenance')}:{port}\"\n")


# Runs in the page's container (its image has wget: GNU or busybox); asks Traefik for the
# page's health path at the public host until the answer is (or is not) the page's.
_PROBE = (
    'host=$1 traefik=$2 path=$3 want=$4 limit=$5; deadline=$(( $(date +%s) + limit ))\n'
    'while :; do\n'
    '  if wget -q -S -O /dev/null -T 3 --no-check-certificate --header "Host: $host" '
    f'"https://$traefik$path" 2>&1 | grep -qi "^ *{MARK_HEADER}: *{MARK_VALUE}"; then seen=on; '
    'else seen=off; fi\n'
    '  [ "$seen" = "$want" ] && exit 0\n'
    '  if [ "$(date +%s)" -ge "$deadline" ]; then\n'
    '    echo "Traefik ($traefik) still answers $host with the maintenance page $seen after '
    '${limit}s; expected $want" >&2; exit 1\n'
    '  fi\n'
    '  sleep 0.5\n'
    'done\n')


def write_argv(t: RouteTargets) -> list[str]:
    """Replaces Traefik's dynamic file with stdin's content in one rename (its watcher never
    reads half a file)."""
    return [*docker(t.docker_host), "exec", "-i", t.traefik, "sh", "-c",
            'cat > "$1.new" && mv "$1.new" "$1"', "sh", DYNAMIC_CONFIG_PATH]


def probe_argv(t: RouteTargets, want: str, timeout: int = FLIP_TIMEOUT_SECONDS) -> list[str]:
    if want not in ("on", "off"):
        raise ValueError(f"want must be 'on' or 'off', not {want!r}")
    return [*docker(t.docker_host), "exec", t.page, "sh", "-c", _PROBE, "sh",
            t.host, t.traefik, t.health_path, want, str(timeout)]


def flip_script(t: RouteTargets, content_env: str, want: str) -> str:
    """The shell line a command runs: write the file from `content_env`'s value, then wait for
    Traefik to answer as `want` says."""
    return (f'printf "%s" "${content_env}" | {shlex.join(write_argv(t))} && '
            f"{shlex.join(probe_argv(t, want))}")


def off_script(t: RouteTargets) -> str:
    """The flip off, for the command's delete: with no Traefik container left nothing routes to
    the page, so there is nothing to undo."""
    exists = shlex.join([*docker(t.docker_host), "container", "inspect", t.traefik])
    return (f"if ! {exists} >/dev/null 2>&1; then "
            f"echo 'no container {t.traefik}: nothing routes to the maintenance page' >&2; exit 0; fi; "
            f"{flip_script(t, BASE_ENV, 'off')}")


def on_script(t: RouteTargets) -> str:
    return flip_script(t, ROUTED_ENV, "on")


def route_environment(settings: Settings, port: int, resolver: str | None) -> dict[str, str]:
    """What on_script and off_script read: the file with the page routed, and without it (the
    file Traefik's container is created with)."""
    return {ROUTED_ENV: routed_config(settings, port, resolver), BASE_ENV: DYNAMIC_CONFIG}
