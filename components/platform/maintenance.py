"""Maintenance answer for one stack: a tiny nginx that answers HTTP 503 with a short page.

It always runs; `meeshy:maintenance: true` only adds its Traefik router, which outranks every
router of the stack's public hosts. Flipping the setting therefore replaces this one small
container and touches no application container, so the switch can turn writes off and on in
seconds. The update waits until the new container is healthy, since Traefik routes to a
container with a health check only once it is.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import pulumi

from commands import services as commands
from components.platform.containers import ContainerSpec, health_of
from components.platform.context import StackContext
from components.platform.routing import (
    MAINTENANCE_PRIORITY,
    cert_resolver,
    disabled_labels,
    router_labels,
)
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
    location = {HEALTH_PATH} {{ access_log off; default_type text/plain; return 200 "ok\\n"; }}
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
    """The maintenance answer's container (pure); routed only with meeshy:maintenance."""
    names = settings.names
    labels = (router_labels(names, "maintenance", names.public_hosts, port=MAINTENANCE.port,
                            priority=MAINTENANCE_PRIORITY, resolver=cert_resolver(settings))
              if settings.maintenance else disabled_labels())
    return ContainerSpec(
        service="maintenance",
        image=settings.images.by_key()["maintenance"],
        command=["nginx", "-g", "daemon off;"],
        labels=labels,
        files={"/etc/nginx/conf.d/default.conf": NGINX_CONF, f"{PAGE_DIR}/index.html": PAGE},
        health=health_of("maintenance", commands.healthcheck_test(
            commands.http_probe(f"http://localhost{HEALTH_PATH}", MAINTENANCE.health.tool))),
        # Traefik ignores a container until it is healthy: the update that turns maintenance
        # on must not end (and the switch's delta pass start) while writes still go through.
        # The rehearsal saw writes acknowledged ~40 s into "maintenance on" without this.
        wait_healthy=True,
    )


@dataclass(frozen=True)
class MaintenanceArgs:
    ctx: StackContext
    # What must be done before the page's routing changes: the release's health gate. An update
    # that replaces the application containers and ends maintenance (a rollback's re-apply)
    # then keeps the page up until the new containers pass the gate, instead of removing it
    # while the old ones still answer from a database the rollback has emptied.
    after: Sequence[pulumi.Resource] = ()


class Maintenance(pulumi.ComponentResource):
    def __init__(self, name: str, args: MaintenanceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("meeshy:maintenance:Maintenance", name, None, opts)
        ctx, s = args.ctx, args.ctx.settings
        names = s.names
        spec = maintenance_container(s)
        self.container = ctx.container(spec, parent=self,
                                       depends_on=[*ctx.image_deps("maintenance"), *args.after])
        self.container_name = self.container.name
        self.enabled = pulumi.Output.from_input(s.maintenance)
        self.hosts = list(names.public_hosts)
        self.register_outputs({"container_name": self.container_name, "enabled": self.enabled,
                               "hosts": self.hosts})
