"""AppService: one generic component for translator, gateway, web, static files and the agent:
image, environment, volumes, Traefik router for its host names, the service's health check, restart
policy, and the operator's per-service settings (`meeshy:services.<service>`)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import pulumi

from commands import services as commands
from components.platform.containers import ContainerSpec, Health, Mount
from components.platform.context import StackContext
from components.platform.routing import disabled_labels, router_labels
from config.service_settings import ServiceSettings


@dataclass(frozen=True)
class AppServiceArgs:
    ctx: StackContext
    service: str                      # naming key: translator, gateway, web, static, agent
    image_key: str                    # key in meeshy:images
    port: int                         # where the service listens inside its container
    envs: Mapping[str, Any] = field(default_factory=dict)
    mounts: Sequence[Mount] = ()
    files: Mapping[str, str] = field(default_factory=dict)
    command: Sequence[str] | None = None
    start_period: str = "60s"
    depends_on: Sequence[pulumi.Resource] = ()
    public: bool = True               # routed by Traefik at the service's host names
    middlewares: Sequence[str] = ()   # Traefik middlewares of its router
    probe: Sequence[str] | None = None  # overrides the service's probe (argument vector)


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
        ctx = args.ctx
        names = ctx.names
        hosts = names.hosts_of(args.service)
        extra = ctx.settings.services.of(args.service)
        labels = (router_labels(names, args.service, hosts, port=args.port,
                                middlewares=args.middlewares)
                  if args.public else disabled_labels())
        spec = ContainerSpec(
            service=args.service,
            image=ctx.image(args.image_key),
            envs={**args.envs, **extra.environment()},
            labels=labels,
            mounts=[*args.mounts, *operator_mounts(extra)],
            files=args.files,
            read_only_files=operator_files(extra),
            command=args.command,
            health=Health(commands.healthcheck_test(args.probe or commands.service_probe(args.service)),
                          start_period=args.start_period),
        )
        self.container = ctx.container(
            spec, parent=self, depends_on=[*ctx.image_deps(args.image_key), *args.depends_on])
        self.container_name = self.container.name
        self.hosts = list(hosts) if args.public else []
        self.urls = [names.url(h) for h in self.hosts]
        self.internal_url = pulumi.Output.from_input(f"http://{names.container(args.service)}:{args.port}")
        self.register_outputs({"container_name": self.container_name, "urls": self.urls,
                               "internal_url": self.internal_url})
