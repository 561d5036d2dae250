"""Redis for one stack: append-only persistence on a per-stack volume, and a healthcheck."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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


def redis_container(settings: Settings, data: Any) -> ContainerSpec:
    """Redis's container (pure); `data` is its volume's name."""
    published = settings.ports.redis
    return ContainerSpec(
        service="redis",
        image=settings.images.by_key()["redis"],
        command=redis_command(settings),
        mounts=spec_mounts("redis", {"redis-data": data}),
        ports=[Publish(REDIS_PORT, published, ip="127.0.0.1")] if published else [],
        health=health_of("redis", commands.healthcheck_test(commands.redis_ping())),
        wait_healthy=True,
    )


@dataclass(frozen=True)
class RedisArgs:
    ctx: StackContext


class Redis(pulumi.ComponentResource):
    def __init__(self, name: str, args: RedisArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("meeshy:redis:Redis", name, None, opts)
        ctx, s = args.ctx, args.ctx.settings
        names = s.names
        self.data = stack_volume(s, "redis-data", provider=ctx.provider, parent=self)
        spec = redis_container(s, self.data.name)
        self.container = ctx.container(spec, parent=self, depends_on=ctx.image_deps("redis"))
        self.container_name = self.container.name
        self.url = pulumi.Output.from_input(names.redis_url)
        self.register_outputs({"container_name": self.container_name, "url": self.url,
                               "data_volume": self.data.name})
