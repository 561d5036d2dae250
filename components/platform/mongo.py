"""MongoReplicaSet: one `mongod --replSet` container with its data and config volumes, and the
one-shot, idempotent replica-set initialisation naming the stack's own member host."""
from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_command as command

from commands import services as commands
from components.platform.containers import ContainerSpec, Publish, health_of, spec_mounts
from components.platform.context import StackContext
from components.platform.volumes import stack_volume
from config import wiring
from config.naming import DATABASE_PORT
from config.settings import Settings


def mongod_command(settings: Settings) -> list[str] | None:
    db = settings.database
    if db.command:
        return list(db.command)
    if db.replica_set.enabled:
        return ["mongod", "--replSet", db.replica_set.name, "--bind_ip_all"]
    return None  # the image's own command (rehearsal databases such as FerretDB)


def database_probe(settings: Settings) -> list[str]:
    probe = settings.database.healthcheck or commands.mongo_ping()
    return commands.healthcheck_test(probe)


def replica_set_init_command(settings: Settings) -> list[str]:
    """What the one-shot init runs where Pulumi runs: docker exec into the stack's database."""
    names = settings.names
    rs = settings.database.replica_set.name
    # --host: the same engine as the stack's Docker provider, local socket or ssh://.
    return commands.docker_exec(names.database_host,
                                commands.replica_set_init(rs, names.replica_member),
                                docker_host=settings.docker_host)


def database_container(settings: Settings, data: Any, config: Any) -> ContainerSpec:
    """The database's container (pure); `data` and `config` are its volumes' names."""
    ports = settings.ports
    return ContainerSpec(
        service="database",
        image=settings.images.by_key()["mongo"],
        envs=wiring.database_env(settings),
        command=mongod_command(settings),
        mounts=spec_mounts("database", {"database-data": data, "database-config": config}),
        ports=[Publish(DATABASE_PORT, ports.database, ip="127.0.0.1")] if ports.database else [],
        health=health_of("database", database_probe(settings)),
        wait_healthy=True,           # the replica-set init needs a server that answers
        stop_grace_seconds=60,       # let mongod flush and step down cleanly
    )


@dataclass(frozen=True)
class MongoReplicaSetArgs:
    ctx: StackContext


class MongoReplicaSet(pulumi.ComponentResource):
    def __init__(self, name: str, args: MongoReplicaSetArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("meeshy:mongo:MongoReplicaSet", name, None, opts)
        ctx, s = args.ctx, args.ctx.settings
        names, db = s.names, s.database
        self.data = stack_volume(s, "database-data", provider=ctx.provider, parent=self)
        self.config = stack_volume(s, "database-config", provider=ctx.provider, parent=self)
        spec = database_container(s, self.data.name, self.config.name)
        self.container = ctx.container(spec, parent=self, depends_on=ctx.image_deps("mongo"))
        replica_set = db.replica_set.name if db.replica_set.enabled else None
        self.replica_set_init = None
        if replica_set:
            self.replica_set_init = command.local.Command(
                f"{names.prefix}-rs-init",
                create=shlex.join(replica_set_init_command(s)),
                # Re-run only when the member identity changes; the script is idempotent anyway.
                triggers=[names.replica_member, replica_set],
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.container]),
            )
        self.container_name = self.container.name
        self.member_host = pulumi.Output.from_input(names.replica_member if replica_set else "")
        self.database_name = pulumi.Output.from_input(db.name)
        self.url = pulumi.Output.from_input(wiring.database_url(s))
        self.published_url = pulumi.Output.from_input(wiring.database_url(
            s, f"mongodb://127.0.0.1:{s.ports.database}/{db.name}?directConnection=true")
            if s.ports.database else "")
        self.register_outputs({
            "container_name": self.container_name, "member_host": self.member_host,
            "database_name": self.database_name, "url": self.url,
            "published_url": self.published_url,
            "data_volume": self.data.name, "config_volume": self.config.name,
        })
