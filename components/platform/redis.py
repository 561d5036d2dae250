"""Redis for one stack: append-only persistence on a per-stack volume, and a healthcheck."""
from __future__ import annotations

from dataclasses import dataclass

import pulumi

from commands import services as commands
from components.platform.containers import ContainerSpec, Publish, health_of, spec_mounts
from components.platform.context import StackContext
from components.platform.volumes import stack_volume
from config.naming import REDIS_PORT
from config.settings import Settings


def redis_command(settings: Settings) -> list[str]:
    return ["redis-server", "--appendonly", "yes",
            "--maxmemory", settings.redis.max_memory,
            "--maxmemory-policy", settings.redis.max_memory_policy]


@dataclass(frozen=True)
class RedisArgs:
    ctx: StackContext


class Redis(pulumi.ComponentResource):
    def __init__(self, name: str, args: RedisArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("meeshy:redis:Redis", name, None, opts)
        ctx, s = args.ctx, args.ctx.settings
        names = s.names
        self.data = stack_volume(s, "redis-data", provider=ctx.provider, parent=self)
        spec = ContainerSpec(
            service="redis",
            image=ctx.image("redis"),
            command=redis_command(s),
            mounts=spec_mounts("redis", {"redis-data": self.data}),
            ports=[Publish(REDIS_PORT, s.ports.redis, ip="127.0.0.1")] if s.ports.redis else [],
            health=health_of("redis", commands.healthcheck_test(commands.redis_ping())),
            wait_healthy=True,
        )
        self.container = ctx.container(spec, parent=self, depends_on=ctx.image_deps("redis"))
        self.container_name = self.container.name
        self.url = pulumi.Output.from_input(names.redis_url)
        self.register_outputs({"container_name": self.container_name, "url": self.url,
                               "data_volume": self.data.name})
