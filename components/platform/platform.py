"""MeeshyPlatform: the whole stack on its own Docker network, through its own Docker provider."""
from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_docker as docker

from components.platform.admin import AdminUis, AdminUisArgs
from components.platform.app_service import AppService, AppServiceArgs
from components.platform.context import StackContext
from components.platform.coturn import Coturn, CoturnArgs
from components.platform.handover import handover_command, maintenance_test
from components.platform.maintenance import Maintenance, MaintenanceArgs
from components.platform.mongo import MongoReplicaSet, MongoReplicaSetArgs
from components.platform.redis import Redis, RedisArgs
from components.platform.traefik import Traefik, TraefikArgs
from components.platform.volumes import stack_volume
from components.release.release import platform_gate, platform_release, platform_schema_check
from config import naming, services, wiring
from config.release_settings import ReleaseSettings
from config.settings import Settings

# The volumes the application services declare (the others belong to their components).
APP_VOLUMES = tuple(use.purpose for spec in services.app_specs() if not spec.optional
                    for use in spec.volumes if use.owner)


@dataclass(frozen=True)
class MeeshyPlatformArgs:
    settings: Settings
    # The stack's release section (backup -> migration -> health gate); None: no release steps.
    release: ReleaseSettings | None = None


# What an application service may start after besides another service (see _app_services).
STAGES = ("data", "checked")


def _in_start_order(specs: list) -> list:
    """`specs` with each after the services its declaration names (translator, then gateway)."""
    ordered: list = []
    while len(ordered) < len(specs):
        done = {o.name for o in ordered}
        ready = [x for x in specs if x not in ordered
                 and all(a in STAGES or a in done for a in x.after)]
        if not ready:
            raise ValueError(f"services wait on each other: {[x.name for x in specs]}")
        ordered += ready
    return ordered


class MeeshyPlatform(pulumi.ComponentResource):
    def __init__(self, name: str, args: MeeshyPlatformArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("meeshy:platform:MeeshyPlatform", name, None, opts)
        s = args.settings
        ctx = self._stack_context(s)
        self._data_services(ctx)
        self.maintenance = Maintenance(
            f"{s.names.prefix}-maintenance", MaintenanceArgs(ctx, self.traefik.container),
            pulumi.ResourceOptions(parent=self))
        volume = {p: stack_volume(s, p, provider=self.provider, parent=self) for p in APP_VOLUMES}
        # The data steps first (backup, migration): the backup waits for the writes closed when
        # the update turns maintenance on, and the services on the migration's target start
        # after the pass writing it (a switch's window update: release.py).
        self.release = (platform_release(
            f"{s.names.prefix}-release", s, args.release,
            database_ready=[self._database_ready, *self.maintenance.closes_writes],
            opts=pulumi.ResourceOptions(parent=self)) if args.release else None)
        data_ready = list(self.release.data_ready) if self.release else []
        checked = self._schema_check(s, args.release, data_ready)
        # A new container is routed once Docker reports it healthy, so it starts after the check;
        # under maintenance nothing reaches it before the page's route goes, so it starts beside
        # the check (2.2 s of a switch's window at x1) and the gate waits for both.
        start_after = [*data_ready, *([] if s.maintenance else checked)]
        app_ready = [self._database_ready, self.redis.container, *start_after]
        self.apps = self._app_services(s, ctx, volume, app_ready, start_after,
                                       gated=args.release is not None)
        self.optional = {name: app for name, app in self.apps.items() if services.by_name(name).optional}
        if s.services.enabled("coturn"):
            self.optional["coturn"] = Coturn(f"{s.names.prefix}-coturn",
                                             CoturnArgs(ctx, self.traefik.certs.name),
                                             pulumi.ResourceOptions(parent=self))
        self.admin = (AdminUis(f"{s.names.prefix}-admin", AdminUisArgs(ctx),
                               pulumi.ResourceOptions(parent=self)) if s.admin_uis else None)
        # After the services: the gate probes them.
        gated = {name: app for name, app in self.apps.items() if services.by_name(name).gated}
        if self.release:
            platform_gate(self.release, [*(a.container for a in gated.values()), *checked],
                          {name: app.container.name for name, app in gated.items()})
        self.handovers = [
            handover_command(f"{s.names.prefix}-{name}", app.container, s.docker_host,
                             parent=self, after=[self.release.gate] if self.release else [],
                             quiet=maintenance_test(s.names, s.docker_host))
            for name, app in self.apps.items() if app.rolling]
        self._register(s, volume)

    def _schema_check(self, s: Settings, release: ReleaseSettings | None, data_ready: list) -> list:
        """Before any application container is handed over: the data checked against the schema
        inside the gateway image about to start (after the pass writing it, if any); a mismatch
        fails the update right here. Its steps, for what must wait for them."""
        self.schema_check = (platform_schema_check(
            f"{s.names.prefix}-release-schema-check", s, release,
            database_ready=[self._database_ready, *data_ready],
            opts=pulumi.ResourceOptions(parent=self)) if release else None)
        return list(self.schema_check.checks) if self.schema_check else []

    def _stack_context(self, s: Settings) -> StackContext:
        """The stack's Docker provider, its network and (with meeshy:pullImages) its pulled images."""
        self.provider = docker.Provider(f"{s.names.prefix}-docker", host=s.docker_host,
                                        ssh_opts=s.docker_ssh.options if s.docker_ssh else None,
                                        opts=pulumi.ResourceOptions(parent=self))
        child = pulumi.ResourceOptions(parent=self, provider=self.provider)
        self.network = self._network(s, child)
        pulled = {key: docker.RemoteImage(f"{s.names.prefix}-image-{key}", name=ref, keep_locally=True,
                                          opts=child)
                  for key, ref in s.images.by_key().items()} if s.pull_images else {}
        return StackContext(s, self.provider, self.network.name, pulled)

    def _data_services(self, ctx: StackContext) -> None:
        prefix = ctx.settings.names.prefix
        self.traefik = Traefik(f"{prefix}-traefik", TraefikArgs(ctx), pulumi.ResourceOptions(parent=self))
        self.database = MongoReplicaSet(f"{prefix}-database", MongoReplicaSetArgs(ctx),
                                        pulumi.ResourceOptions(parent=self))
        self.redis = Redis(f"{prefix}-redis", RedisArgs(ctx), pulumi.ResourceOptions(parent=self))

    @property
    def _database_ready(self) -> pulumi.Resource:
        """What says the database takes connections: the replica set's initiation, else its container."""
        return self.database.replica_set_init or self.database.container

    def _app_services(self, s: Settings, ctx: StackContext, volume: dict, app_ready: list,
                      checked: list, gated: bool) -> dict[str, AppService]:
        """Every application service the stack runs (config/services/), each after what its
        declaration names: the data ("data": database, Redis and the schema check), the schema
        check alone ("checked") or another service."""
        started: dict[str, AppService] = {}
        after = {"data": app_ready, "checked": checked}
        for spec in _in_start_order([x for x in services.app_specs() if s.services.enabled(x.name)]):
            depends = [r for name in spec.after
                       for r in (after[name] if name in after else [started[name].container])]
            started[spec.name] = AppService(
                f"{s.names.prefix}-{spec.name}",
                AppServiceArgs(ctx, spec, volume, depends_on=depends, wait_healthy=not gated),
                pulumi.ResourceOptions(parent=self))
        return started

    def _register(self, s: Settings, volume: dict) -> None:
        self.outputs = self._outputs(s, volume)
        if self.release:
            self.outputs["release"] = self.release.summary
        if self.schema_check:
            self.outputs["schemaCheck"] = self.schema_check.summary
        self.register_outputs(self.outputs)

    def _network(self, s: Settings, child: pulumi.ResourceOptions) -> docker.Network:
        adopted = s.adopt.networks.get("main")
        if adopted:
            return docker.Network(s.names.network, name=adopted.name, opts=pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(import_=adopted.import_id, protect=True,
                                              retain_on_delete=True,
                                              ignore_changes=["labels", "options", "ipamConfigs"])))
        return docker.Network(s.names.network, name=s.names.network, driver="bridge",
                              labels=[docker.NetworkLabelArgs(label=naming.STACK_LABEL, value=s.stack)],
                              opts=child)

    def _outputs(self, s: Settings, app_volumes: dict) -> dict:
        running = {"traefik": self.traefik, "database": self.database, "redis": self.redis,
                   **self.apps, "maintenance": self.maintenance, **self.optional}
        containers = {k: c.container_name for k, c in running.items()}
        if "coturn" in self.optional:
            containers["certs-dumper"] = self.optional["coturn"].dumper.name
            app_volumes = {**app_volumes, "turn-certs": self.optional["coturn"].certs}
        if self.admin:
            containers.update({"mongo-ui": self.admin.mongo_ui.name, "redis-ui": self.admin.redis_ui.name})
        volumes = {"database-data": self.database.data.name, "database-config": self.database.config.name,
                   "redis-data": self.redis.data.name, "traefik-certs": self.traefik.certs.name,
                   **{p: v.name for p, v in app_volumes.items()}}
        if self.admin:
            volumes["redis-ui-data"] = self.admin.redis_ui_data.name
        urls = wiring.public_urls(s)
        if self.admin:
            urls.update({"mongoUi": self.admin.urls[0], "redisUi": self.admin.urls[1]})
        return {
            "stack": s.stack,
            "releaseLabel": s.release,
            "rehearsal": s.rehearsal,
            "maintenance": s.maintenance,
            "publicUrls": urls,
            "databaseUrl": self.database.url,
            "databaseName": s.database.name,
            "publishedDatabaseUrl": self.database.published_url,
            "replicaSetMember": self.database.member_host,
            "redisUrl": self.redis.url,
            "networkName": self.network.name,
            "containerNames": containers,
            "databaseContainer": self.database.container_name,
            "volumeNames": volumes,
            "images": s.images.by_key(),
            "publishedPorts": {"http": s.ports.http, "https": s.ports.https,
                               **({"database": s.ports.database} if s.ports.database else {}),
                               **({"redis": s.ports.redis} if s.ports.redis else {})},
            "backupDir": s.backup_dir,
            "dockerHost": s.docker_host,
        }
