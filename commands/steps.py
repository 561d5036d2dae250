"""Pure builders of the release's command lines: backup, restore, migration and health gate.

They compose commands/services.py (docker exec, mongodump/mongorestore --archive --gzip) with
this project's own helpers (steps.backup_run, steps.migration_step, steps.health_gate), for the two
places a database can be:
- DockerServer: the stack's database container on its network. Dumps stream out of the
  container through `docker exec`; the migration and the health gate run in a throw-away
  container of the tools image on the stack's network, so the database port is never published.
- ExternalServer: a plain server URI (a FerretDB on loopback in the end-to-end tests).
The MongoBackup/DataMigration/HealthGate components and ops/ call the same functions.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from commands import services as commands
from commands.docker import docker

HEALTH_MONGO_ENV = "MEESHY_HEALTH_MONGO_URI"
MIGRATION_SOURCE_ENV = "MEESHY_MIGRATION_SOURCE_URI"
MIGRATION_TARGET_ENV = "MEESHY_MIGRATION_TARGET_URI"
CONTAINER_REPORTS = "/reports"


@dataclass(frozen=True)
class ExternalServer:
    uri: str                      # mongodb://host:port, no database

    def database_uri(self, database: str) -> str:
        return f"{self.uri.rstrip('/')}/{database}"


@dataclass(frozen=True)
class DockerServer:
    container: str                # the stack's database container
    network: str                  # the stack's network
    tools_image: str              # this repository + python + pymongo
    member_uri: str               # mongodb://<container>:27017 as seen inside the network
    uri_options: str = ""         # e.g. "replicaSet=rs0"
    docker_host: str | None = None

    def database_uri(self, database: str) -> str:
        query = f"?{self.uri_options}" if self.uri_options else ""
        return f"{self.member_uri.rstrip('/')}/{database}{query}"


Server = ExternalServer | DockerServer


def python() -> str:
    """The project's interpreter, by a name every machine shares: an absolute virtualenv path
    in a command would make a deploy from another machine (another MEESHY_TOOLS_DIR) see the
    release steps changed and run them again. Whoever runs the commands makes that name the
    project's interpreter, whatever PATH holds: config.locations.with_project_tools, for the
    engine (ops/automation/stack_runner.py) and for the steps ops runs itself (ops/data_ops.py)."""
    return "python"


def dump_command(server: Server, database: str) -> list[str]:
    """A command whose stdout is the database as a gzip archive."""
    if isinstance(server, DockerServer):
        return commands.docker_exec(server.container, commands.mongodump_archive(db=database),
                                    docker_host=server.docker_host)
    return commands.mongodump_archive(uri=server.uri, db=database)


def restore_command(server: Server, from_database: str, to_database: str) -> list[str]:
    """Reads a gzip archive on stdin into `to_database`, dropping each collection first.

    `--nsInclude` limits the restore to the database of the archive, so an archive that holds
    more than one never touches another database. `--noIndexRestore`: the indexes are created
    afterwards from the archive's metadata by `data_check_command(..., "indexes", ...)`,
    because mongorestore's own index restore adds an option FerretDB refuses.
    """
    rename = from_database != to_database
    restore = commands.mongorestore_archive(
        ns_from=f"{from_database}.*" if rename else None,
        ns_to=f"{to_database}.*" if rename else None,
        uri=None if isinstance(server, DockerServer) else server.uri)
    restore += [f"--nsInclude={from_database}.*", "--noIndexRestore"]
    if isinstance(server, DockerServer):
        return commands.docker_exec(server.container, restore, interactive=True,
                                    docker_host=server.docker_host)
    return restore


def backup_run_command(*, backup_dir: str, stack: str, database: str, label: str, retain: int,
                       timeout_seconds: int, dump: Sequence[str]) -> list[str]:
    return [python(), "-m", "steps.backup_run", "--dir", backup_dir, "--stack", stack,
            "--database", database, "--label", label, "--retain", str(retain),
            "--timeout", str(timeout_seconds), "--", *dump]


def _in_network(server: DockerServer, argv: Sequence[str], *, env: Sequence[str] = (),
                mounts: Sequence[str] = ()) -> list[str]:
    cmd = [*docker(server.docker_host), "run", "--rm", "--network", server.network]
    for name in env:
        cmd += ["--env", name]           # value passed through from our environment
    for mount in mounts:
        cmd += ["--volume", mount]
    return [*cmd, server.tools_image, *argv]


def migration_command(server: Server, verb: str, *, report_path: str,
                      to_step: str | None = None, live_source: bool = False,
                      decisions: Mapping[str, str] | None = None) -> list[str]:
    """`python -m migration run|plan` between the URIs held in MIGRATION_SOURCE_ENV and
    MIGRATION_TARGET_ENV (set them with migration_environment), writing its JSON report.
    `decisions` ({name: value}, meeshy:migration.decisions) are passed as `--decision`, every
    one spelled out, so the command a report shows says what was chosen.

    The command goes through `sh -c` so the URIs stay out of argument lists that end up in
    state and logs; the shell expands them from the environment at run time.
    """
    if verb not in ("run", "plan", "verify"):
        raise ValueError(f"unknown migration verb {verb!r}")
    report = Path(report_path)
    in_docker = isinstance(server, DockerServer)
    json_path = f"{CONTAINER_REPORTS}/{report.name}" if in_docker else str(report)
    interpreter = "python" if in_docker else python()
    script = (f'exec {interpreter} -m migration {verb} --source "${MIGRATION_SOURCE_ENV}" '
              f'--target "${MIGRATION_TARGET_ENV}" --json {_sh_quote(json_path)}')
    if to_step and verb == "run":
        script += f" --to {_sh_quote(to_step)}"
    if live_source and verb == "run":   # a pre-copy while the source still takes writes
        script += " --live-source"
    for name, value in sorted((decisions or {}).items()):
        script += f" --decision {_sh_quote(f'{name}={value}')}"
    argv = ["sh", "-c", script]
    if in_docker:
        return _in_network(server, argv, env=(MIGRATION_SOURCE_ENV, MIGRATION_TARGET_ENV),
                           mounts=(f"{report.parent}:{CONTAINER_REPORTS}",))
    return argv


def migration_environment(server: Server, source_database: str, target_database: str) -> dict[str, str]:
    return {MIGRATION_SOURCE_ENV: server.database_uri(source_database),
            MIGRATION_TARGET_ENV: server.database_uri(target_database)}


def migration_step_command(*, report_path: str, timeout_seconds: int,
                           migration: Sequence[str]) -> list[str]:
    """steps.migration_step runs the migration bounded in time and prints its report's summary."""
    return [python(), "-m", "steps.migration_step", "--report", report_path,
            "--timeout", str(timeout_seconds), "--", *migration]


def health_gate_command(server: Server, *, deadline_seconds: float, interval_seconds: float,
                        endpoints: dict[str, str], check_database: bool = True) -> list[str]:
    """steps.health_gate over the given endpoints; the database URI comes from HEALTH_MONGO_ENV."""
    in_docker = isinstance(server, DockerServer)
    argv = ["python" if in_docker else python(), "-m", "steps.health_gate",
            "--deadline", _number(deadline_seconds), "--interval", _number(interval_seconds)]
    for name in sorted(endpoints):
        argv += ["--http", f"{name}={endpoints[name]}"]
    if check_database:
        argv += ["--mongo-env", HEALTH_MONGO_ENV]
    if in_docker:
        return _in_network(server, argv, env=(HEALTH_MONGO_ENV,) if check_database else ())
    return argv


def docker_health_endpoints(container_of: dict[str, str]) -> dict[str, str]:
    """The health endpoints of each service, addressed by container name inside the network."""
    return {service: commands.health_url(service, host)
            for service, host in sorted(container_of.items())}


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _sh_quote(text: str) -> str:
    import shlex
    return shlex.quote(text)


DATA_URI_ENV = "MEESHY_DATA_URI"


def data_check_command(server: Server, verb: str, database: str, *, out: str | None = None,
                       baseline: str | None = None, archive: str | None = None) -> list[str]:
    """steps.data_check (digests, baseline, changes) of one database; the server URI travels in
    DATA_URI_ENV. In Docker mode each file's folder is mounted at the same path in the tools
    container, so paths in reports read the same on the host."""
    if verb not in ("digests", "baseline", "changes", "indexes"):
        raise ValueError(f"unknown data check {verb!r}")
    in_docker = isinstance(server, DockerServer)
    argv = ["python" if in_docker else python(), "-m", "steps.data_check", verb, "--database", database]
    files = []
    for flag, path in (("--out", out), ("--baseline", baseline), ("--archive", archive)):
        if path:
            argv += [flag, path]
            files.append(path)
    if not in_docker:
        return argv
    folders = sorted({str(Path(path).parent) for path in files})
    return _in_network(server, argv, env=(DATA_URI_ENV,),
                       mounts=tuple(f"{folder}:{folder}" for folder in folders))


def data_environment(server: Server) -> dict[str, str]:
    uri = server.uri if isinstance(server, ExternalServer) else server.database_uri("admin")
    return {DATA_URI_ENV: uri}


def schema_copy_command(image: str, out: str, *, path_in_image: str,
                        docker_host: str | None = None) -> list[str]:
    """steps.image_schema: on this host, the schema file `image` carries copied into `out`
    (`docker create`, `docker cp`, `docker rm`; the container never starts)."""
    argv = [python(), "-m", "steps.image_schema", "--image", image, "--path", path_in_image,
            "--out", out]
    return argv + (["--docker-host", docker_host] if docker_host else [])


def schema_validate_command(server: Server, *, schema_file: str, report_path: str) -> list[str]:
    """`python -m migration validate` of the database in MIGRATION_TARGET_ENV against
    `schema_file`. In Docker mode both files' folders are mounted at the same path in the tools
    container (on the stack's network), so paths in reports read the same on the host."""
    in_docker = isinstance(server, DockerServer)
    script = (f'exec {"python" if in_docker else python()} -m migration validate '
              f'--target "${MIGRATION_TARGET_ENV}" --schema {_sh_quote(schema_file)} '
              f'--json {_sh_quote(report_path)}')
    argv = ["sh", "-c", script]
    if not in_docker:
        return argv
    folders = sorted({str(Path(schema_file).parent), str(Path(report_path).parent)})
    return _in_network(server, argv, env=(MIGRATION_TARGET_ENV,),
                       mounts=tuple(f"{folder}:{folder}" for folder in folders))


PRISMA_DATABASE_URL_ENV = "MEESHY_PRISMA_DATABASE_URL"


def prisma_read_command(server: Server, image: str, *, deadline_seconds: float,
                        client_path: str | None = None, models: Sequence[str] = ()) -> list[str]:
    """steps.prisma_read on this host: every document of the database in PRISMA_DATABASE_URL_ENV
    read by the Prisma Client `image` carries, in a throw-away container of that image on the
    stack's network (host networking for an external server, which is on this host's loopback
    in the tests)."""
    docker_mode = isinstance(server, DockerServer)
    argv = [python(), "-m", "steps.prisma_read", "--image", image,
            "--network", server.network if docker_mode else "host",
            "--deadline", _number(deadline_seconds)]
    if client_path:
        argv += ["--client-path", client_path]
    if models:
        argv += ["--models", ",".join(models)]
    if docker_mode and server.docker_host:
        argv += ["--docker-host", server.docker_host]
    return argv
