"""Maintenance answer for one stack: a tiny nginx that answers HTTP 503 with a short page.

It always runs, unrouted; `meeshy:maintenance: true` adds its router to Traefik's file provider
(maintenance_route.py), which outranks every router of the stack's public hosts. Flipping the
setting therefore creates or deletes one command and touches no container, so the switch turns
writes off and on in seconds, and no request is sent to a stopping container at the flip.
"""
from __future__ import annotations

from dataclasses import dataclass

import pulumi

from commands import services as commands
from components.platform import maintenance_route
from components.platform.containers import ContainerSpec, health_of
from components.platform.context import StackContext
from components.platform.routing import cert_resolver, disabled_labels
from components.release.local_command import local_command
from config.services.maintenance import SPEC as MAINTENANCE
from config.settings import Settings

HEALTH_PATH = "/__maintenance/health"
# What a client is told to wait before retrying a refused write (the maintenance page's 503).
RETRY_AFTER_SECONDS = 120
PAGE_DIR = "/usr/share/nginx/maintenance"

NGINX_CONF = f"""server {{
    listen 80 default_server;
    server_name _;
    root {PAGE_DIR};
    location = {HEALTH_PATH} {{
        access_log off; default_type text/plain;
        add_header {maintenance_route.MARK_HEADER} {maintenance_route.MARK_VALUE} always;
        return 200 "ok\\n";
    }}
    location = /index.html {{ internal; add_header Retry-After {RETRY_AFTER_SECONDS} always; }}
    error_page 503 /index.html;
    location / {{ return 503; }}
}}
"""

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Meeshy: maintenance</title></head>
<body style="font-family: sans-serif; text-align: center; padding-top: 4em">
<h1>Meeshy is being updated</h1>
<p>We will be back in a few minutes. / Nous revenons dans quelques minutes.</p>
</body></html>
"""


def maintenance_container(settings: Settings) -> ContainerSpec:
    """The maintenance answer's container (pure): the same whether maintenance is on or off."""
    return ContainerSpec(
        service="maintenance",
        image=settings.images.by_key()["maintenance"],
        command=["nginx", "-g", "daemon off;"],
        labels=disabled_labels(),
        files={"/etc/nginx/conf.d/default.conf": NGINX_CONF, f"{PAGE_DIR}/index.html": PAGE},
        health=health_of("maintenance", commands.healthcheck_test(
            commands.http_probe(f"http://localhost{HEALTH_PATH}", MAINTENANCE.health.tool))),
        # The route is added only once the page answers.
        wait_healthy=True,
    )


@dataclass(frozen=True)
class MaintenanceArgs:
    ctx: StackContext
    traefik: pulumi.Resource          # the container whose dynamic file holds the route


class Maintenance(pulumi.ComponentResource):
    def __init__(self, name: str, args: MaintenanceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("meeshy:maintenance:Maintenance", name, None, opts)
        ctx, s = args.ctx, args.ctx.settings
        names = s.names
        spec = maintenance_container(s)
        self.container = ctx.container(spec, parent=self, depends_on=ctx.image_deps("maintenance"))
        self.container_name = self.container.name
        self.route = (self._route(name, s, args) if s.maintenance else None)
        # What a data step under maintenance waits for: the page routed, no write comes in.
        self.closes_writes = [self.route] if self.route else []
        self.enabled = pulumi.Output.from_input(s.maintenance)
        self.hosts = list(names.public_hosts)
        self.register_outputs({"container_name": self.container_name, "enabled": self.enabled,
                               "hosts": self.hosts})

    def _route(self, name: str, s: Settings, args: MaintenanceArgs):
        """The page's router while maintenance is on: created (the flip on, waited for) first
        in its update, as the release's data steps wait for it (platform.py), and deleted (the
        flip off) at the end of the update that turns it off, as the engine deletes what the
        program no longer declares only once every other step is done: after the release gate.
        A new Traefik container starts from the file without the router, so the route follows
        Traefik's container; it is removed before it is written again, as the delete of an
        older route would otherwise undo the new one."""
        targets = maintenance_route.route_targets(s, HEALTH_PATH)
        env = maintenance_route.route_environment(s, MAINTENANCE.port, cert_resolver(s))
        return local_command(
            f"{name}-route", create=maintenance_route.on_script(targets),
            delete=maintenance_route.off_script(targets), environment=env,
            triggers=[args.traefik.id],
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True,
                                        depends_on=[args.traefik, self.container]))
