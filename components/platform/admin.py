"""Admin UIs (MongoDB web client, Redis UI): optional per stack, only behind basic auth."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi

from commands import services as commands
from components.platform.containers import ContainerSpec, health_of, spec_mounts
from components.platform.context import StackContext
from components.platform.routing import basic_auth_labels, cert_resolver, merge, router_labels
from components.platform.traefik import ADMIN_UI_USERS_FILE
from components.platform.volumes import stack_volume
from config.naming import REDIS_PORT
from config.services import by_name
from config.settings import Settings

MONGO_UI, REDIS_UI = by_name("mongo-ui"), by_name("redis-ui")
MONGO_UI_PORT, REDIS_UI_PORT = MONGO_UI.port, REDIS_UI.port


def _routed(settings: Settings, service: str, port: int) -> dict:
    """Each UI declares its own basic-auth middleware, so neither depends on the other's
    container."""
    names = settings.names
    if settings.secrets.admin_ui_auth is None:
        raise ValueError("admin UIs need meeshy:adminUiAuth (settings should have refused this)")
    return merge(router_labels(names, service, names.hosts_of(service), port=port,
                               middlewares=[f"{service}-auth"], resolver=cert_resolver(settings)),
                 basic_auth_labels(names, f"{service}-auth", ADMIN_UI_USERS_FILE))


def mongo_ui_container(settings: Settings) -> ContainerSpec:
    """The MongoDB web client's container (pure), connected directly to the stack's member."""
    names = settings.names
    direct_url = f"mongodb://{names.replica_member}/{settings.database.name}?directConnection=true"
    return ContainerSpec(
        service="mongo-ui",
        image=settings.images.by_key()["mongoUi"],
        envs={"MONGOCLIENT_DEFAULT_CONNECTION_URL": direct_url,
              "ROOT_URL": names.url(names.hosts_of("mongo-ui")[0]),
              "PORT": str(MONGO_UI_PORT)},
        labels=_routed(settings, "mongo-ui", MONGO_UI_PORT),
        health=health_of("mongo-ui", commands.healthcheck_test(
            commands.http_probe(MONGO_UI.health_url(), MONGO_UI.health.tool))),
    )


def redis_ui_container(settings: Settings, data: Any) -> ContainerSpec:
    """The Redis web client's container (pure); `data` is its settings volume's name."""
    names = settings.names
    redis_settings = {"hostname": names.container("redis"), "port": REDIS_PORT,
                      "password": "", "database": 0}
    return ContainerSpec(
        service="redis-ui",
        image=settings.images.by_key()["redisUi"],
        envs={"P3X_REDIS_UI_SETTINGS": json.dumps(redis_settings, sort_keys=True),
              "P3X_REDIS_UI_HTTP_PORT": str(REDIS_UI_PORT),
              "P3XRS_SETTINGS_PATH": "/settings"},
        labels=_routed(settings, "redis-ui", REDIS_UI_PORT),
        mounts=spec_mounts("redis-ui", {"redis-ui-data": data}),
        health=health_of("redis-ui", ["CMD-SHELL", f"netstat -an | grep -q ':{REDIS_UI_PORT}'"]),
    )


@dataclass(frozen=True)
class AdminUisArgs:
    ctx: StackContext


class AdminUis(pulumi.ComponentResource):
    def __init__(self, name: str, args: AdminUisArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("meeshy:admin:AdminUis", name, None, opts)
        ctx, s = args.ctx, args.ctx.settings
        names = s.names
        mongo_spec = mongo_ui_container(s)
        self.redis_ui_data = stack_volume(s, "redis-ui-data", provider=ctx.provider, parent=self)
        redis_spec = redis_ui_container(s, self.redis_ui_data.name)
        self.mongo_ui = ctx.container(mongo_spec, parent=self, depends_on=ctx.image_deps("mongoUi"))
        self.redis_ui = ctx.container(redis_spec, parent=self, depends_on=ctx.image_deps("redisUi"))
        self.urls = [names.url(names.hosts_of(x)[0]) for x in ("mongo-ui", "redis-ui")]
        self.register_outputs({"mongo_ui": self.mongo_ui.name, "redis_ui": self.redis_ui.name,
                               "urls": self.urls})
