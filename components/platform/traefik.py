"""Traefik for one stack: HTTP->HTTPS redirect, Let's Encrypt TLS challenge with a per-stack
certificate volume, a docker provider that only sees this stack's containers, and the dashboard
behind basic auth."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from components.platform.containers import ContainerSpec, Mount, Publish, health_of, spec_mounts
from components.platform.context import StackContext
from components.platform.routing import (
    CERT_RESOLVER,
    DYNAMIC_CONFIG_PATH,
    basic_auth_labels,
    cert_resolver,
    merge,
    router_labels,
)
from components.platform.volumes import stack_volume
from config.naming import STACK_LABEL
from config.settings import Settings

ACME_STORAGE = "/letsencrypt/acme.json"
# Production's file provider beside the docker provider: middlewares shared by every router
# (HEAD's routers use `compress@file`). Uploaded at create, so it changes only with the code.
DYNAMIC_CONFIG = """http:
  middlewares:
    compress:
      compress: {}
"""
COMPRESS = "compress@file"
# Basic-auth users as files inside Traefik (uploaded read-only, secret in state), named by the
# routers' middlewares through `usersfile`; the admin UIs' file exists only with the UIs.
DASHBOARD_USERS_FILE = "/etc/traefik/auth/dashboard.htpasswd"
ADMIN_UI_USERS_FILE = "/etc/traefik/auth/admin-ui.htpasswd"


def users_file_content(entries: str) -> str:
    """The setting's comma-separated htpasswd entries, one per line as Traefik's usersFile reads them."""
    if not isinstance(entries, str):
        # An unread secret (config.stack_settings.offline_config): the takeover compares which
        # files a container has, never their content.
        return ""
    return "".join(f"{e.strip()}\n" for e in entries.split(",") if e.strip())


def auth_files(settings: Settings) -> dict[str, pulumi.Output]:
    sec = settings.secrets
    files = {DASHBOARD_USERS_FILE: sec.dashboard_auth.output().apply(users_file_content)}
    if settings.admin_uis and sec.admin_ui_auth is not None:
        files[ADMIN_UI_USERS_FILE] = sec.admin_ui_auth.output().apply(users_file_content)
    return files


def traefik_command(settings: Settings) -> list[str]:
    names = settings.names
    https = settings.ports.https
    # Redirecting to the entrypoint name would send browsers to :443; a stack publishing HTTPS
    # elsewhere (staging on 8443) must redirect to its own published port.
    redirect_to = "websecure" if https == 443 else f":{https}"
    acme = f"--certificatesresolvers.{CERT_RESOLVER}.acme"
    cmd = [
        "--api.dashboard=true",
        "--ping=true",
        "--log.level=INFO",
        "--accesslog=true",
        "--global.checknewversion=false",    # no calls home from a production proxy
        "--global.sendanonymoususage=false",
        "--providers.docker=true",
        "--providers.docker.exposedbydefault=false",
        f"--providers.docker.network={names.network}",
        f"--providers.docker.constraints=Label(`{STACK_LABEL}`,`{names.stack}`)",
        f"--providers.file.filename={DYNAMIC_CONFIG_PATH}",
        "--entrypoints.web.address=:80",
        "--entrypoints.websecure.address=:443",
        f"--entrypoints.web.http.redirections.entrypoint.to={redirect_to}",
        "--entrypoints.web.http.redirections.entrypoint.scheme=https",
        "--entrypoints.web.http.redirections.entrypoint.permanent=true",
    ]
    if not settings.acme.enabled:
        return cmd
    cmd += [
        f"{acme}.tlschallenge=true",
        f"{acme}.email={settings.acme.email}",
        f"{acme}.storage={ACME_STORAGE}",
    ]
    if settings.acme.ca_server:
        cmd.append(f"{acme}.caserver={settings.acme.ca_server}")
    return cmd


def traefik_container(settings: Settings, certs: Any) -> ContainerSpec:
    """Traefik's container (pure); `certs` is its certificate volume's name."""
    names = settings.names
    labels = merge(
        router_labels(names, "dashboard", names.hosts_of("traefik"),
                      internal_service="api@internal", middlewares=["dashboard-auth"],
                      resolver=cert_resolver(settings)),
        basic_auth_labels(names, "dashboard-auth", DASHBOARD_USERS_FILE),
    )
    return ContainerSpec(
        service="traefik",
        image=settings.images.by_key()["traefik"],
        command=traefik_command(settings),
        labels=labels,
        mounts=[*spec_mounts("traefik", {"traefik-certs": certs}),
                Mount("/var/run/docker.sock", host_path=settings.docker_socket, read_only=True)],
        ports=[Publish(80, settings.ports.http), Publish(443, settings.ports.https)],
        files={DYNAMIC_CONFIG_PATH: DYNAMIC_CONFIG},
        read_only_files=auth_files(settings),
        health=health_of("traefik", ["CMD", "traefik", "healthcheck", "--ping"]),
    )


@dataclass(frozen=True)
class TraefikArgs:
    ctx: StackContext


class Traefik(pulumi.ComponentResource):
    def __init__(self, name: str, args: TraefikArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("meeshy:traefik:Traefik", name, None, opts)
        ctx, s = args.ctx, args.ctx.settings
        names = s.names
        self.certs = stack_volume(s, "traefik-certs", provider=ctx.provider, parent=self)
        spec = traefik_container(s, self.certs.name)
        self.container = ctx.container(spec, parent=self, depends_on=ctx.image_deps("traefik"))
        self.container_name = self.container.name
        self.dashboard_url = pulumi.Output.from_input(names.url(names.hosts_of("traefik")[0]))
        self.register_outputs({"container_name": self.container_name,
                               "dashboard_url": self.dashboard_url,
                               "certificates_volume": self.certs.name})
