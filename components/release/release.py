"""Release: the data side of one release, composed as backup -> migration -> health gate.

    backup     MongoBackup of the database the services use, when the release, the target
               migration step or the backup pass changes; a new migration pass alone (a
               switch's delta pass) takes none: the migration never writes the database it
               reads, and ops fingerprints it under maintenance instead (ops/switch/frozen.py)
    migration  DataMigration legacy -> new database, after the backup; declared only while the
               services do not use its target yet (once they do, running it again would write
               the live database, which the migration must never do), and in a switch's window
               update (`migration.window`), which moves them onto it: the pass runs first and
               their new containers start only after it (`data_ready`)
    gate       HealthGate after the services (and the migration) changed; declared by
               `gated_by(services)` once the services are (they may wait for the migration)

Two placements of the database (commands/steps.py): inside the Docker platform
(`docker_server`, the platform passes its database container and network) or an external
server URI (`externalDatabase.uri`, no Docker), which the end-to-end tests use with FerretDB.
`summary` is what the program exports as `release`; ops/ reads it after every update.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import pulumi

from commands.steps import DockerServer, ExternalServer, Server
from components.release.backup import MongoBackup
from components.release.data_migration import DataMigration
from components.release.data_migration import report_path as migration_report_path
from components.release.health_gate import HealthGate
from components.release.schema_check import SchemaCheck
from config import services, wiring
from config.release_settings import ReleaseConfigError, ReleaseSettings


def external_server(settings: ReleaseSettings) -> ExternalServer:
    if not settings.external_uri:
        raise ReleaseConfigError(f"meeshy:externalDatabase.uri is required for stack "
                                 f"{settings.stack!r} without a Docker platform")
    return ExternalServer(settings.external_uri)


def docker_server(settings: ReleaseSettings, *, container: str, network: str, member_uri: str,
                  uri_options: str = "", docker_host: str | None = None,
                  login: Callable[[str], Any] | None = None) -> DockerServer:
    if not settings.tools_image:
        raise ReleaseConfigError("meeshy:tools.image is required in Docker mode: the migration "
                                 "and the health gate run in it on the stack's network")
    return DockerServer(container, network, settings.tools_image, member_uri, uri_options,
                        docker_host, login)


def backup_triggers(settings: ReleaseSettings) -> list[str]:
    migration = settings.migration
    return [settings.release, (migration.to_step or "") if migration else "",
            settings.backup.pass_id]


def backup_label(settings: ReleaseSettings) -> str:
    migration = settings.migration
    return (settings.backup.pass_id or (migration.pass_id if migration else "")
            or settings.release)


class Release(pulumi.ComponentResource):
    def __init__(self, name: str, settings: ReleaseSettings, server: Server, *,
                 endpoints: dict[str, str], gate_triggers: Sequence[Any] = (),
                 services: Sequence[pulumi.Resource] | None = (),
                 database_ready: Sequence[pulumi.Resource] = (),
                 opts: pulumi.ResourceOptions | None = None):
        """`services` None: the gate is declared later, by `gated_by`."""
        super().__init__("meeshy:release:Release", name, None, opts)
        self._name, self._settings, self._server = name, settings, server
        self._endpoints, self._gate_triggers = dict(endpoints), list(gate_triggers)
        child = pulumi.ResourceOptions(parent=self)
        migration = settings.migration
        label = backup_label(settings)
        self.backup = MongoBackup(
            f"{name}-backup", stack=settings.stack, server=server,
            database=settings.live_database, settings=settings.backup, label=label,
            triggers=backup_triggers(settings), depends_on=database_ready, opts=child)
        self.migration = None
        if migration is not None and (not settings.migrates_live_database
                                      or settings.migrates_in_window):
            self.migration = DataMigration(
                f"{name}-migration", stack=settings.stack, server=server, settings=migration,
                backup_dir=settings.backup.directory, depends_on=[self.backup.dump], opts=child)
        # What a service on the migration's target starts after: the pass writing it, if any.
        self.data_ready = ([self.migration.run] if self.migration and settings.migrates_live_database
                           else [])
        if services is not None:
            self.gated_by(services)

    def gated_by(self, services: Sequence[pulumi.Resource],
                 endpoints: dict[str, Any] | None = None) -> None:
        """The health gate after the data steps and `services` (probing `endpoints` too), and
        the release's summary."""
        settings, server = self._settings, self._server
        after = [self.backup.dump, *([self.migration.run] if self.migration else []), *services]
        self.gate = HealthGate(
            f"{self._name}-gate", server=server, settings=settings.health,
            endpoints={**self._endpoints, **(endpoints or {})},
            database_uri=server.database_uri(settings.live_database),
            triggers=[settings.release, settings.live_database, *self._gate_triggers],
            depends_on=after, opts=pulumi.ResourceOptions(parent=self))
        self.summary = pulumi.Output.from_input({
            "release": settings.release,
            "databaseName": settings.live_database,
            "maintenance": settings.maintenance,
            "backup": self.backup.manifest.apply(_manifest_outputs),
            "migration": (pulumi.Output.all(self.migration.summary, self.migration.report_path)
                          .apply(lambda v: {"summary": v[0], "report": v[1]})
                          if self.migration else None),
            "health": self.gate.services,
        })
        self.register_outputs({"summary": self.summary})


def _manifest_outputs(manifest: dict) -> dict:
    keep = ("backupId", "archive", "sha256", "sizeBytes", "database", "takenAt", "collections",
            "documents", "label")
    return {key: manifest[key] for key in keep if key in manifest}


# The services the gate probes (config/services/).
APP_SERVICES = tuple(spec.name for spec in services.SPECS if spec.gated)


def platform_server(settings, release: ReleaseSettings) -> DockerServer:
    """The stack's database container, as the release steps of a Docker platform reach it."""
    names = settings.names
    replica = settings.database.replica_set
    login = ((lambda url: wiring.database_url(settings, url))
             if settings.database.needs_login else None)
    return docker_server(release, container=names.database_host, network=names.network,
                         member_uri=f"mongodb://{names.replica_member}",
                         uri_options=f"replicaSet={replica.name}" if replica.enabled else "",
                         docker_host=settings.docker_host, login=login)


def docker_gate_endpoints(names) -> dict[str, str]:
    """The health endpoints a Docker stack's HealthGate probes: each application container by
    name inside the stack's network."""
    from commands.steps import docker_health_endpoints
    return docker_health_endpoints({service: names.container(service) for service in APP_SERVICES})


def gate_endpoints(release: ReleaseSettings) -> dict[str, str]:
    """What the HealthGate of `release`'s stack probes, for a check made outside an update (a
    rollback's gate, the check after maintenance-off): the configured endpoints of an
    external-database stack, the application containers of a Docker one."""
    if release.external:
        return dict(release.health.endpoints)
    from config import naming
    return docker_gate_endpoints(naming.StackNames(release.stack, "invalid.example"))


def gated_endpoints(containers: dict[str, Any]) -> dict[str, Any]:
    """The gate's endpoints at the containers' own Docker names (Outputs): a rolling container's
    fixed name is an alias its old container answers too until the update ends, and the gate
    must probe the new one."""
    from commands.services import health_url
    return {service: pulumi.Output.from_input(name).apply(lambda n, s=service: health_url(s, n))
            for service, name in sorted(containers.items())}


def platform_release(name: str, settings, release: ReleaseSettings, *,
                     database_ready: Sequence[pulumi.Resource] = (),
                     opts: pulumi.ResourceOptions | None = None) -> Release:
    """The Release of a Docker platform stack, declared by MeeshyPlatform before its services
    (they may start after its migration: `data_ready`), then `platform_gate` after them.

    `settings` is the platform's config.settings.Settings: the database container, the
    network, the replica set and the Docker host come from it, the health endpoints are the
    HEALTH_ENDPOINTS of each application container, and the gate re-runs when any image changes.
    The backup waits for `database_ready` (the database container, or its replica set's
    initiation, and the maintenance page's route while it is on).
    """
    server = platform_server(settings, release)
    images = [f"{key}={ref}" for key, ref in sorted(settings.images.by_key().items())]
    return Release(name, release, server, endpoints=docker_gate_endpoints(settings.names),
                   gate_triggers=images, services=None, database_ready=database_ready, opts=opts)


def platform_gate(release: Release, services: Sequence[pulumi.Resource],
                  container_names: dict[str, Any]) -> None:
    """The gate of a platform's release after `services` (the application containers and what
    else must pass first), probing each gated container by its own name."""
    release.gated_by(services, gated_endpoints(container_names))


def platform_schema_check(name: str, settings, release: ReleaseSettings, *,
                          database_ready: Sequence[pulumi.Resource] = (),
                          opts: pulumi.ResourceOptions | None = None) -> SchemaCheck | None:
    """The check of the migrated data against the gateway image's schema, for MeeshyPlatform to
    declare before the application containers (which then depend on it). Declared while the
    services use the migration's target: that is the data the migration shaped for the new
    release; the legacy database is checked by no schema (its defects are the migration's job).
    """
    if release.migration is None or not release.migrates_live_database:
        return None
    migration = release.migration
    delta = bool(migration.pass_id) and not migration.live_source   # a switch's delta pass
    return SchemaCheck(name, stack=release.stack, server=platform_server(settings, release),
                       image=settings.images.gateway, database=release.live_database,
                       backup_dir=release.backup.directory,
                       timeout_seconds=migration.timeout_seconds,
                       written_report=(migration_report_path(release.backup.directory,
                                                             release.stack, migration)
                                       if delta else None),
                       docker_host=settings.docker_host, depends_on=database_ready, opts=opts)
