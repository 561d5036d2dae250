"""AppService: one generic component for translator, gateway, web, static files and the agent:
image, environment, volumes, Traefik router for its host names, the service's health check, restart
policy, and the operator's per-service settings (`meeshy:services.<service>`)."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import pulumi

from commands import services as commands
from components.platform import handover
from components.platform.containers import ContainerSpec, Mount, health_of, spec_mounts
from components.platform.context import StackContext
from components.platform.routing import (
    RETRY,
    cert_resolver,
    disabled_labels,
    merge,
    retry_labels,
    router_labels,
)
from components.platform.traefik import COMPRESS
from config.service_settings import ServiceSettings
from config.services import ServiceSpec
from config.settings import Settings


@dataclass(frozen=True)
class AppServiceArgs:
    ctx: StackContext
    spec: ServiceSpec                 # its declaration: image, port, probe, variables, files
    volumes: Mapping[str, Any] = field(default_factory=dict)   # purpose -> docker.Volume
    depends_on: Sequence[pulumi.Resource] = ()
    # Without a health gate nothing else holds the old container until the new one serves.
    wait_healthy: bool = False

    @property
    def service(self) -> str:
        return self.spec.name


def operator_mounts(service: ServiceSettings) -> list[Mount]:
    """Secret files from the host (bind, read-only) and extra volumes of one service."""
    mounts = [Mount(f.path, host_path=f.host_path, read_only=True)
              for f in service.secret_files if f.host_path]
    mounts += [Mount(m.path, volume=m.volume, host_path=m.host_path, read_only=m.read_only)
               for m in service.volumes]
    return mounts


def operator_files(service: ServiceSettings) -> dict[str, Any]:
    """Secret files from secret config: uploaded read-only, their content a secret Output."""
    return {f.path: f.secret.output() for f in service.secret_files if f.secret}


def app_container(settings: Settings, service: ServiceSpec,
                  volumes: Mapping[str, Any]) -> ContainerSpec:
    """The container of an application service (pure): its declaration and its operator
    settings; `volumes` maps each volume purpose it mounts to the volume's name."""
    names = settings.names
    hosts = names.hosts_of(service.name)
    extra = settings.services.of(service.name)
    rolling = is_rolling(service)
    middlewares = [*([RETRY] if rolling else []), *([COMPRESS] if service.compress else [])]
    labels = (merge(router_labels(names, service.name, hosts, port=service.port,
                                  middlewares=middlewares, resolver=cert_resolver(settings)),
                    retry_labels(names) if rolling else {})
              if is_public(settings, service) else disabled_labels())
    probe = extra.options.get("healthcheck") or commands.service_probe(service.name)
    health = health_of(service.name, commands.healthcheck_test(probe))
    if rolling:
        health = dataclasses.replace(health, test=handover.drain_test(probe),
                                     interval=handover.INTERVAL, retries=handover.RETRIES)
    return ContainerSpec(
        service=service.name,
        image=settings.images.by_key()[service.image],
        envs={**(service.env(settings) if service.env else {}), **extra.environment()},
        labels=labels,
        mounts=[*spec_mounts(service.name, volumes), *operator_mounts(extra)],
        files=dict(service.files),
        read_only_files=operator_files(extra),
        command=list(service.command) if service.command else None,
        health=health,
        rolling=rolling,
    )


def is_rolling(service: ServiceSpec) -> bool:
    """Replaced create-before-delete (containers.py): the services the release gate checks,
    which are the ones serving users' requests."""
    return service.gated


def is_public(settings: Settings, service: ServiceSpec) -> bool:
    """Routed at its hosts, if it has any; an optional service only when its `public` option
    says so (agent)."""
    return (bool(settings.names.hosts_of(service.name))
            and settings.services.of(service.name).options.get("public", True))


class AppService(pulumi.ComponentResource):
    def __init__(self, name: str, args: AppServiceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("meeshy:app:AppService", name, None, opts)
        ctx, service = args.ctx, args.spec
        names = ctx.names
        spec = app_container(ctx.settings, service, {p: v.name for p, v in args.volumes.items()})
        if args.wait_healthy and spec.rolling:
            spec = dataclasses.replace(spec, wait_healthy=True)
        self.container = ctx.container(
            spec, parent=self, depends_on=[*ctx.image_deps(service.image), *args.depends_on])
        self.container_name = self.container.name
        self.rolling = spec.rolling
        self.hosts = list(names.hosts_of(service.name)) if is_public(ctx.settings, service) else []
        self.urls = [names.url(h) for h in self.hosts]
        self.internal_url = pulumi.Output.from_input(
            f"http://{names.container(service.name)}:{service.port}")
        self.register_outputs({"container_name": self.container_name, "urls": self.urls,
                               "internal_url": self.internal_url})
