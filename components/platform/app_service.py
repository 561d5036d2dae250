"""AppService: one generic component for translator, gateway, web, static files and the agent:
image, environment, volumes, Traefik router for its host names, the service's health check, restart
policy, and the operator's per-service settings (`meeshy:services.<service>`)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import pulumi

from commands import services as commands
from components.platform.containers import ContainerSpec, Mount, health_of, spec_mounts
from components.platform.context import StackContext
from components.platform.routing import disabled_labels, router_labels
from config.service_settings import ServiceSettings
from config.services import ServiceSpec


@dataclass(frozen=True)
class AppServiceArgs:
    ctx: StackContext
    spec: ServiceSpec                 # its declaration: image, port, probe, variables, files
    volumes: Mapping[str, Any] = field(default_factory=dict)   # purpose -> docker.Volume
    depends_on: Sequence[pulumi.Resource] = ()
    middlewares: Sequence[str] = ()   # Traefik middlewares of its router

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


class AppService(pulumi.ComponentResource):
    def __init__(self, name: str, args: AppServiceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("meeshy:app:AppService", name, None, opts)
        ctx, service = args.ctx, args.spec
        names = ctx.names
        hosts = names.hosts_of(service.name)
        extra = ctx.settings.services.of(service.name)
        # Routed at its hosts, if it has any; an optional service only when its `public` option
        # says so (agent).
        public = bool(hosts) and extra.options.get("public", True)
        labels = (router_labels(names, service.name, hosts, port=service.port,
                                middlewares=args.middlewares)
                  if public else disabled_labels())
        probe = extra.options.get("healthcheck") or commands.service_probe(service.name)
        spec = ContainerSpec(
            service=service.name,
            image=ctx.image(service.image),
            envs={**(service.env(ctx.settings) if service.env else {}), **extra.environment()},
            labels=labels,
            mounts=[*spec_mounts(service.name, args.volumes), *operator_mounts(extra)],
            files=dict(service.files),
            read_only_files=operator_files(extra),
            command=list(service.command) if service.command else None,
            health=health_of(service.name, commands.healthcheck_test(probe)),
        )
        self.container = ctx.container(
            spec, parent=self, depends_on=[*ctx.image_deps(service.image), *args.depends_on])
        self.container_name = self.container.name
        self.hosts = list(hosts) if public else []
        self.urls = [names.url(h) for h in self.hosts]
        self.internal_url = pulumi.Output.from_input(
            f"http://{names.container(service.name)}:{service.port}")
        self.register_outputs({"container_name": self.container_name, "urls": self.urls,
                               "internal_url": self.internal_url})
