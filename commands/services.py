"""Pure builders of the command lines the platform and its operators run, as argument lists.

Components, ops/ and the backup/switch code all use these, so the command a test compared
list-for-list is the command that runs. Nothing here touches a shell or a database; join a list
with `shlex.join` only where a shell string is unavoidable (pulumi_command's `create`).
"""
from __future__ import annotations

import json
from typing import Sequence

from commands.docker import docker
from config import services

# Where each service with an HTTP health endpoint answers it inside its container, and the
# HTTP client its image ships (config/services/).
HEALTH_ENDPOINTS: dict[str, tuple[int, str]] = {
    s.name: (s.port, s.health.path) for s in services.SPECS if s.app and s.health.path}
PROBE_TOOLS: dict[str, str] = {s.name: s.health.tool for s in services.SPECS if s.app}


def docker_exec(container: str, argv: Sequence[str], *, interactive: bool = False,
                docker_host: str | None = None) -> list[str]:
    """`docker exec` into `container`; `interactive` keeps stdin open (restores read stdin)."""
    cmd = [*docker(docker_host), "exec"]
    if interactive:
        cmd.append("--interactive")
    return [*cmd, container, *argv]


def mongosh_eval(script: str, *, uri: str | None = None) -> list[str]:
    """mongosh running one script quietly; without `uri` it talks to the local server."""
    return ["mongosh", "--quiet", *([uri] if uri else []), "--eval", script]


def ping_script() -> str:
    return 'db.runCommand({ping: 1}).ok'


def mongo_ping(*, uri: str | None = None) -> list[str]:
    return mongosh_eval(ping_script(), uri=uri)


def replica_set_init_script(replica_set: str, member_host: str, *, wait_seconds: int = 60) -> str:
    """Idempotent single-member replica-set initialisation naming the stack's own member host.

    Not initialised: rs.initiate. Initialised with this host: nothing to do. Initialised with a
    different single member (a data volume taken over from another deployment, e.g. compose's
    `database:27017`): forced reconfig to this host, since otherwise no client can ever reach the
    primary. Then waits until the node is a writable primary, so services start against it.
    """
    # Double quotes only, so the script survives shell quoting (pulumi_command runs a string).
    rs, host = json.dumps(replica_set), json.dumps(member_host)
    return (
        f"const want = {host}; let cfg = null;"
        " try { cfg = rs.conf(); } catch (e) {"
        ' if (e.codeName !== "NotYetInitialized" && e.code !== 94) { throw e; } }'
        f" if (cfg === null) {{ rs.initiate({{_id: {rs}, members: [{{_id: 0, host: want}}]}});"
        ' print("replica set initiated with " + want); }'
        " else if (cfg.members.length === 1 && cfg.members[0].host !== want) {"
        " const was = cfg.members[0].host; cfg.members[0].host = want;"
        ' rs.reconfig(cfg, {force: true}); print("replica set member " + was + " renamed to " + want); }'
        ' else { print("replica set already initialised with " + cfg.members.map(m => m.host).join(",")); }'
        f" let ok = false; for (let i = 0; i < {int(wait_seconds)} && !ok; i++) {{"
        " ok = db.hello().isWritablePrimary === true; if (!ok) { sleep(1000); } }"
        ' if (!ok) { throw new Error("no writable primary after initialisation"); }'
    )


def replica_set_init(replica_set: str, member_host: str) -> list[str]:
    return mongosh_eval(replica_set_init_script(replica_set, member_host))


def mongodump_archive(*, uri: str | None = None, db: str | None = None,
                      archive_path: str | None = None) -> list[str]:
    """`mongodump --archive --gzip`: to stdout unless `archive_path` (a path where it runs)."""
    cmd = ["mongodump"]
    if uri:
        cmd.append(f"--uri={uri}")
    if db:
        cmd.append(f"--db={db}")
    cmd.append(f"--archive={archive_path}" if archive_path else "--archive")
    return [*cmd, "--gzip"]


def mongorestore_archive(*, uri: str | None = None, archive_path: str | None = None,
                         ns_from: str | None = None, ns_to: str | None = None,
                         drop: bool = True) -> list[str]:
    """`mongorestore --archive --gzip [--drop]`: from stdin unless `archive_path`.
    `ns_from`/`ns_to` (e.g. 'meeshy.*' -> 'meeshy_v2.*') restore into another database."""
    if (ns_from is None) != (ns_to is None):
        raise ValueError("ns_from and ns_to go together: both or neither")
    cmd = ["mongorestore"]
    if uri:
        cmd.append(f"--uri={uri}")
    cmd.append(f"--archive={archive_path}" if archive_path else "--archive")
    cmd.append("--gzip")
    if drop:
        cmd.append("--drop")
    if ns_from is not None:
        cmd += [f"--nsFrom={ns_from}", f"--nsTo={ns_to}"]
    return cmd


def redis_ping() -> list[str]:
    return ["redis-cli", "ping"]


def http_probe(url: str, tool: str = "curl", *, timeout_seconds: int = 5) -> list[str]:
    """An HTTP GET that exits non-zero unless the answer is 2xx/3xx, with the given client."""
    t = str(int(timeout_seconds))
    if tool == "curl":
        return ["curl", "--fail", "--silent", "--show-error", "--max-time", t,
                "--output", "/dev/null", url]
    if tool == "wget":
        return ["wget", "--quiet", "--tries=1", "-T", t, "-O", "/dev/null", url]
    if tool == "python3":
        return ["python3", "-c",
                f"import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout={t})", url]
    raise ValueError(f"unknown probe tool {tool!r}; expected curl, wget or python3")


def health_url(service: str, host: str = "localhost") -> str:
    return services.by_name(service).health_url(host)


def service_probe(service: str, *, host: str = "localhost", tool: str | None = None) -> list[str]:
    """The health probe of `service` (gateway /health, translator /live, web /api/health,
    static /health), run inside its container by default."""
    return http_probe(health_url(service, host), tool or PROBE_TOOLS[service])


def healthcheck_test(argv: Sequence[str]) -> list[str]:
    """Docker HEALTHCHECK form of a probe (exec form: no shell, no quoting)."""
    return ["CMD", *argv]
