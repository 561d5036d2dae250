"""AppService: one generic component for translator, gateway, web and static files: image,
environment, volumes, Traefik router for its host names, the §1 health check, restart policy."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import pulumi

from components import commands
from components.containers import ContainerSpec, Health, Mount, stack_container
from components.context import StackContext
from components.routing import router_labels


@dataclass(frozen=True)
class AppServiceArgs:
    ctx: StackContext
    service: str                      # naming key: translator, gateway, web, static
    image_key: str                    # key in meeshy:images
    port: int                         # where the service listens inside its container
    envs: Mapping[str, Any] = field(default_factory=dict)
    mounts: Sequence[Mount] = ()
    files: Mapping[str, str] = field(default_factory=dict)
    command: Sequence[str] | None = None
    start_period: str = "60s"
    depends_on: Sequence[pulumi.Resource] = ()


class AppService(pulumi.ComponentResource):
    def __init__(self, name: str, args: AppServiceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("meeshy:app:AppService", name, None, opts)
        ctx = args.ctx
        names = ctx.names
        hosts = names.hosts_of(args.service)
        spec = ContainerSpec(
            service=args.service,
            image=ctx.image(args.image_key),
            envs=args.envs,
            labels=router_labels(names, args.service, hosts, port=args.port),
            mounts=args.mounts,
            files=args.files,
            command=args.command,
            health=Health(commands.healthcheck_test(commands.service_probe(args.service)),
                          start_period=args.start_period),
        )
        self.container = stack_container(
            names, spec, ctx.network, provider=ctx.provider, parent=self,
            depends_on=[*ctx.image_deps(args.image_key), *args.depends_on])
        self.container_name = self.container.name
        self.hosts = list(hosts)
        self.urls = [names.url(h) for h in hosts]
        self.internal_url = pulumi.Output.from_input(f"http://{names.container(args.service)}:{args.port}")
        self.register_outputs({"container_name": self.container_name, "urls": self.urls,
                               "internal_url": self.internal_url})
