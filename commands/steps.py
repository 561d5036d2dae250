"""Pure builders of the release's command lines: backup, restore, migration and health gate.

They compose commands/services.py (docker exec, mongodump/mongorestore --archive --gzip) with
this project's own helpers (steps.backup_run, steps.migration_step, steps.health_gate), for the two
places a database can be:
- DockerServer: the stack's database container on its network. Every step (backup, restore,
  migration, schema check, health gate, data checks) runs in a throw-away container of the
  tools image on the stack's network, on the stack's engine (this machine's or a server reached
  over SSH), so the database port is never published; the files a step reads or writes
  (backups, manifests, reports) are on the engine's host, mounted at the same path.
- ExternalServer: a plain server URI (a FerretDB on loopback in the end-to-end tests).
The MongoBackup/DataMigration/HealthGate components and ops/ call the same functions.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from commands import services as commands
from commands.docker import docker

HEALTH_MONGO_ENV = "MEESHY_HEALTH_MONGO_URI"
MIGRATION_SOURCE_ENV = "MEESHY_MIGRATION_SOURCE_URI"
MIGRATION_TARGET_ENV = "MEESHY_MIGRATION_TARGET_URI"
DATA_URI_ENV = "MEESHY_DATA_URI"
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
    # Adds the login to a URL, for a server that needs one (config/wiring.py database_url): the
    # URL it returns is a secret Output in the Pulumi program. Such a URL only ever travels in
    # a step's secret environment, never in an argument list (state, logs). Not part of the
    # server's identity (two servers are the same database whatever their login) nor its repr.
    login: Callable[[str], Any] | None = field(default=None, compare=False, repr=False)

    def database_uri(self, database: str) -> Any:
        query = f"?{self.uri_options}" if self.uri_options else ""
        url = f"{self.member_uri.rstrip('/')}/{database}{query}"
        return self.login(url) if self.login else url


Server = ExternalServer | DockerServer


def python() -> str:
    """The project's interpreter, by a name every machine shares: an absolute virtualenv path
    in a command would make a deploy from another machine (another MEESHY_TOOLS_DIR) see the
    release steps changed and run them again. Whoever runs the commands makes that name the
    project's interpreter, whatever PATH holds: config.locations.with_project_tools, for the
    engine (ops/automation/stack_runner.py) and for the steps ops runs itself (ops/data_ops.py)."""
    return "python"


def restore_command(server: Server, from_database: str, to_database: str,
                    archive_path: str) -> list[str]:
    """Reads the gzip archive at `archive_path` (a path on the engine's host in Docker mode, where
    the backups are) into `to_database`, dropping each collection first.

    `--nsInclude` limits the restore to the database of the archive, so an archive that holds
    more than one never touches another database. `--noIndexRestore`: the indexes are created
    afterwards from the archive's metadata by `data_check_command(..., "indexes", ...)`,
    because mongorestore's own index restore adds an option FerretDB refuses.
    """
    rename = from_database != to_database
    restore = commands.mongorestore_archive(
        ns_from=f"{from_database}.*" if rename else None,
        ns_to=f"{to_database}.*" if rename else None,
        uri=_plain_uri(server), archive_path=archive_path)
    restore += [f"--nsInclude={from_database}.*", "--noIndexRestore"]
    return _placed(server, _uri_from_env(server, restore), files=(archive_path,),
                   env=tool_uri_env(server))


def needs_login(server: Server) -> bool:
    return isinstance(server, DockerServer) and server.login is not None


def _plain_uri(server: Server) -> str | None:
    """The server's URL for mongodump/mongorestore's --uri, or None where it carries a login."""
    if needs_login(server):
        return None
    return server.database_uri("") if isinstance(server, DockerServer) else server.uri


def _uri_from_env(server: Server, tool: list[str]) -> list[str]:
    """mongodump/mongorestore given a login URL from DATA_URI_ENV by `sh` at run time."""
    if not needs_login(server):
        return tool
    return ["sh", "-c", f'exec "$@" "--uri=${DATA_URI_ENV}"', "sh", *tool]


def tool_uri_env(server: Server) -> tuple[str, ...]:
    """The variables backup_command and restore_command read (tool_uri_environment's names)."""
    return (DATA_URI_ENV,) if needs_login(server) else ()


def tool_uri_environment(server: Server) -> dict[str, Any]:
    """What backup_command and restore_command need in their environment: the login URL."""
    return {DATA_URI_ENV: server.database_uri("")} if needs_login(server) else {}


def backup_command(server: Server, *, backup_dir: str, stack: str, database: str, label: str,
                   retain: int, timeout_seconds: int) -> list[str]:
    """steps.backup_run where the database is: in Docker mode a tools container on the stack's
    network dumps into `backup_dir` of the engine's host (the server's disk for an ssh:// engine,
    where the backups live and are checksummed), else this machine's mongodump and folder."""
    dump = commands.mongodump_archive(uri=_plain_uri(server), db=database)
    argv = [python(), "-m", "steps.backup_run", "--dir", backup_dir, "--stack", stack,
            "--database", database, "--label", label, "--retain", str(retain),
            "--timeout", str(timeout_seconds), "--", *_uri_from_env(server, dump)]
    return _placed(server, argv, folders=(backup_dir,), env=tool_uri_env(server))


def stored_manifest_command(server: Server, archive_path: str) -> list[str]:
    """The archive's sha256, computed where the backup is, on the first line, then the manifest
    kept beside it (steps/backup_manifest.py manifest_path): the caller compares the two."""
    script = 'sha256sum -- "$1" | cut -d " " -f 1 && cat -- "$1.json"'
    return _placed(server, ["sh", "-c", script, "sh", archive_path], files=(archive_path,),
                   network=False, read_only=True)


# Only functions of steps.data_check that every tools image carries: a stack may pin an image
# older than ops' own code, and a rollback must still read back what it kept.
_ARCHIVE_CHANGES = (
    "import sys\nfrom pathlib import Path\n"
    "from steps.data_check import archive_document_hashes as hashes, changes, read_baseline\n"
    "from steps.protocol import print_result\n"
    "kept, database, kind, before = sys.argv[1:5]\n"
    "base = read_baseline(Path(before)) if kind == 'baseline' else hashes(Path(before), database)\n"
    "print_result(changes(base, hashes(Path(kept), database)))\n")


def archive_changes_command(server: Server, archive_path: str, database: str, *,
                            baseline: str | None = None, reference: str | None = None) -> list[str]:
    """The writes from a baseline (or a reference archive) to what the archive at
    `archive_path` holds, per collection (steps.data_check's `changes`, counted in an archive
    instead of the live database), read where the archives are: on the engine's host in a
    tools container without network, the folders mounted read-only."""
    if (baseline is None) == (reference is None):
        raise ValueError("archive_changes_command needs exactly one of baseline or reference")
    kind, before = ("baseline", baseline) if baseline else ("archive", reference)
    return _placed(server, [python(), "-c", _ARCHIVE_CHANGES, archive_path, database, kind, before],
                   files=(archive_path, before), network=False, read_only=True)


def read_file_command(server: Server, path: str) -> list[str]:
    """A command whose stdout is the bytes of `path` where the database is (a backup to copy)."""
    return _placed(server, ["cat", path], files=(path,), network=False, read_only=True)


def list_folder_command(server: Server, folder: str) -> list[str]:
    """The names in `folder` where the database is, one a line (none when it does not exist)."""
    return _placed(server, ["sh", "-c", 'ls -1 -- "$1" 2>/dev/null || true', "sh", folder],
                   folders=(folder,), network=False, read_only=True)


def _in_network(server: DockerServer, argv: Sequence[str], *, env: Sequence[str] = (),
                mounts: Sequence[str] = (), network: bool = True,
                interactive: bool = False) -> list[str]:
    cmd = [*docker(server.docker_host), "run", "--rm", *(["--interactive"] if interactive else [])]
    if network:
        cmd += ["--network", server.network]
    for name in env:
        cmd += ["--env", name]           # value passed through from our environment
    for mount in mounts:
        cmd += ["--volume", mount]
    return [*cmd, server.tools_image, *argv]


def _placed(server: Server, argv: Sequence[str], *, env: Sequence[str] = (),
            files: Sequence[str] = (), folders: Sequence[str] = (), network: bool = True,
            read_only: bool = False, interactive: bool = False) -> list[str]:
    """`argv` where the database is: as it is for a plain URI, else in a tools container with
    each file's folder (and each folder) mounted at the same path, so paths in commands and
    reports read the same on the engine's host."""
    if not isinstance(server, DockerServer):
        return list(argv)
    paths = sorted({*(str(Path(f).parent) for f in files), *folders})
    suffix = ":ro" if read_only else ""
    return _in_network(server, argv, env=env, network=network, interactive=interactive,
                       mounts=tuple(f"{p}:{p}{suffix}" for p in paths))


MIGRATION_ENV = (MIGRATION_SOURCE_ENV, MIGRATION_TARGET_ENV)


def migration_script(verb: str, *, report_path: str, to_step: str | None = None,
                     live_source: bool = False,
                     decisions: Mapping[str, str] | None = None) -> list[str]:
    """`python -m migration run|plan|verify` between the URIs held in MIGRATION_SOURCE_ENV and
    MIGRATION_TARGET_ENV (set them with migration_environment), writing its JSON report.
    `decisions` ({name: value}, meeshy:migration.decisions) are passed as `--decision`, every
    one spelled out, so the command a report shows says what was chosen.

    The command goes through `sh -c` so the URIs stay out of argument lists that end up in
    state and logs; the shell expands them from the environment at run time.
    """
    if verb not in ("run", "plan", "verify"):
        raise ValueError(f"unknown migration verb {verb!r}")
    script = (f'exec {python()} -m migration {verb} --source "${MIGRATION_SOURCE_ENV}" '
              f'--target "${MIGRATION_TARGET_ENV}" --json {_sh_quote(report_path)}')
    if to_step and verb == "run":
        script += f" --to {_sh_quote(to_step)}"
    if live_source and verb == "run":   # a pre-copy while the source still takes writes
        script += " --live-source"
    for name, value in sorted((decisions or {}).items()):
        script += f" --decision {_sh_quote(f'{name}={value}')}"
    return ["sh", "-c", script]


def migration_command(server: Server, verb: str, *, report_path: str, **options) -> list[str]:
    """migration_script where the database is (the report's folder mounted at the same path)."""
    return _placed(server, migration_script(verb, report_path=report_path, **options),
                   env=MIGRATION_ENV, files=(report_path,))


def migration_environment(server: Server, source_database: str, target_database: str) -> dict[str, str]:
    return {MIGRATION_SOURCE_ENV: server.database_uri(source_database),
            MIGRATION_TARGET_ENV: server.database_uri(target_database)}


def migration_step_command(server: Server, inner: Sequence[str], *, report_path: str,
                           timeout_seconds: int, env: Sequence[str] = MIGRATION_ENV,
                           files: Sequence[str] = ()) -> list[str]:
    """steps.migration_step runs `inner` (migration_script, schema_validate_script) bounded in
    time and prints its report's summary; both run where the database is, so the report they
    share is a file of one machine (the engine's host in Docker mode)."""
    argv = [python(), "-m", "steps.migration_step", "--report", report_path,
            "--timeout", str(timeout_seconds), "--", *inner]
    return _placed(server, argv, env=env, files=(report_path, *files))


def health_gate_command(server: Server, *, deadline_seconds: float, interval_seconds: float,
                        endpoints: dict[str, str], check_database: bool = True) -> list[str]:
    """steps.health_gate over the given endpoints; the database URI comes from HEALTH_MONGO_ENV."""
    argv = [python(), "-m", "steps.health_gate",
            "--deadline", _number(deadline_seconds), "--interval", _number(interval_seconds)]
    for name in sorted(endpoints):
        argv += ["--http", f"{name}={endpoints[name]}"]
    if check_database:
        argv += ["--mongo-env", HEALTH_MONGO_ENV]
    return _placed(server, argv, env=(HEALTH_MONGO_ENV,) if check_database else ())


def docker_health_endpoints(container_of: dict[str, str]) -> dict[str, str]:
    """The health endpoints of each service, addressed by container name inside the network."""
    return {service: commands.health_url(service, host)
            for service, host in sorted(container_of.items())}


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _sh_quote(text: str) -> str:
    import shlex
    return shlex.quote(text)



def data_check_command(server: Server, verb: str, database: str, *, out: str | None = None,
                       baseline: str | None = None, archive: str | None = None) -> list[str]:
    """steps.data_check (digests, baseline, changes, indexes, drop) of one database; the server URI travels in
    DATA_URI_ENV. In Docker mode each file's folder is mounted at the same path in the tools
    container, so paths in reports read the same on the host."""
    if verb not in ("digests", "baseline", "changes", "indexes", "drop"):
        raise ValueError(f"unknown data check {verb!r}")
    argv = [python(), "-m", "steps.data_check", verb, "--database", database]
    files = []
    for flag, path in (("--out", out), ("--baseline", baseline), ("--archive", archive)):
        if path:
            argv += [flag, path]
            files.append(path)
    return _placed(server, argv, env=(DATA_URI_ENV,), files=files)


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


def schema_copy_script(server: DockerServer, image: str, out: str, *, path_in_image: str) -> str:
    """The schema copy for an ssh:// engine, as one shell line: `docker cp` brings the file to
    this machine (a temporary file), then a tools container writes it to `out` on the server,
    where the validation reads it. The copy's JSON line stays the last line of stdout."""
    copy = schema_copy_command(image, '"$tmp"', path_in_image=path_in_image,
                               docker_host=server.docker_host)
    write = _placed(server, ["sh", "-c", 'cat > "$1"', "sh", out], folders=(str(Path(out).parent),),
                    network=False, interactive=True)
    quoted = " ".join(arg if arg == '"$tmp"' else _sh_quote(arg) for arg in copy)
    return (f'tmp=$(mktemp) && {quoted} && {" ".join(map(_sh_quote, write))} < "$tmp"; '
            'status=$?; rm -f "$tmp"; exit $status')


def schema_validate_script(*, schema_file: str, report_path: str) -> list[str]:
    """`python -m migration validate` of the database in MIGRATION_TARGET_ENV against
    `schema_file`, for migration_step_command (with both files' folders mounted in Docker mode)."""
    return ["sh", "-c", f'exec {python()} -m migration validate --target "${MIGRATION_TARGET_ENV}" '
                        f'--schema {_sh_quote(schema_file)} --json {_sh_quote(report_path)}']


PRISMA_DATABASE_URL_ENV = "MEESHY_PRISMA_DATABASE_URL"


def prisma_read_command(server: Server, image: str, *, deadline_seconds: float,
                        client_path: str | None = None, models: Sequence[str] = (),
                        written_report: str | None = None) -> list[str]:
    """steps.prisma_read on this host: every document of the database in PRISMA_DATABASE_URL_ENV
    read by the Prisma Client `image` carries, in a throw-away container of that image on the
    stack's network (host networking for an external server, which is on this host's loopback
    in the tests); only those a migration pass wrote with `written_report`, its report."""
    docker_mode = isinstance(server, DockerServer)
    argv = [python(), "-m", "steps.prisma_read", "--image", image,
            "--network", server.network if docker_mode else "host",
            "--deadline", _number(deadline_seconds)]
    if client_path:
        argv += ["--client-path", client_path]
    if models:
        argv += ["--models", ",".join(models)]
    if written_report:
        argv += ["--written", written_report]
    if docker_mode and server.docker_host:
        argv += ["--docker-host", server.docker_host]
    return argv
