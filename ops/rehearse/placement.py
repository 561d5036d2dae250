"""Where a rehearsal's stacks run and how this machine reaches them: on the local engine, ports
free on loopback and the backups under the report directory; on a server reached over SSH
(`--docker-host ssh://...`), ports free on the server, the backups on the server's disk, and
`ssh -L` tunnels (ops/rehearse/tunnels.py) to the https and database ports, opened before the
first deploy and closed after teardown, whatever happened in between.
"""
from __future__ import annotations

from pathlib import Path

from ops.rehearse.engine import LOCAL, Engine, EngineError
from ops.rehearse.tunnels import Tunnel

# The server's disk (a rehearsal's own folder, removed at teardown unless --keep).
REMOTE_BACKUPS = "/srv/meeshy-rehearsal"
PORT_NAMES = ("http", "https", "database")
TUNNELLED = ("https", "database")       # what the rehearsal itself talks to


class Placement:
    def __init__(self, engine: Engine, images: dict[str, str], report_dir: Path, rehearsal_id: str):
        self.engine, self.images = engine, images
        self.backups = (Path(REMOTE_BACKUPS) / f"rehearsal-{rehearsal_id}" if engine.remote
                        else report_dir / "backups")
        self.tunnels: list[Tunnel] = []

    def missing_images(self, needed: tuple[str, ...]) -> list[str]:
        """The needed images the engine lacks (on a server: never pulled, loaded beforehand)."""
        absent = [key for key in needed if key not in self.images]
        if self.engine.remote:
            ids = self.engine.image_ids({k: self.images[k] for k in needed if k in self.images})
            absent += [f"{key} ({self.images[key]}) on {self.engine.name}"
                       for key, found in ids.items() if not found]
        return absent

    def published_ports(self, stacks: int) -> list[dict[str, int] | None]:
        """Per stack, the ports to publish on the engine's host (None: the stack picks free
        loopback ports itself, which are the engine's host's on the local engine)."""
        if not self.engine.remote:
            return [None] * stacks
        ports = self.engine.free_ports(stacks * len(PORT_NAMES), self.images["tools"])
        return [dict(zip(PORT_NAMES, ports[n * len(PORT_NAMES):(n + 1) * len(PORT_NAMES)]))
                for n in range(stacks)]

    def open(self, stacks: list) -> None:
        """Tunnels to each stack's https and database ports; `stack.ports` become their local
        ends. Nothing on the local engine."""
        if not self.engine.remote:
            return
        for stack in stacks:
            tunnel = Tunnel(self.engine.docker_host, self.engine.ssh.options,
                            {name: stack.published[name] for name in TUNNELLED})
            self.tunnels.append(tunnel)
            tunnel.open()
            stack.ports.update(tunnel.local)

    def close(self) -> None:
        for tunnel in self.tunnels:
            tunnel.close()

    def describe(self) -> dict:
        found = {"dockerHost": self.engine.name, "remote": self.engine.remote,
                 "backupDir": str(self.backups)}
        try:
            found["serverVersion"] = self.engine.version()
        except EngineError as error:
            found["serverVersion"] = f"unknown ({str(error)[-200:]})"
        if self.tunnels:
            found["tunnels"] = [t.describe() for t in self.tunnels]
        return found

    @staticmethod
    def local_leftovers(stacks: list[str]) -> dict[str, dict[str, list[str]]]:
        """What this machine's engine holds of `stacks` (only those holding anything): with a
        remote engine, it must be nothing."""
        found = {name: LOCAL.holdings(name) for name in stacks}
        return {name: kinds for name, kinds in found.items() if any(kinds.values())}

    def remove_backups(self) -> str | None:
        """The rehearsal's backup folder on the server, removed (a local one stays with the
        report). Returns the folder removed."""
        if not self.engine.remote:
            return None
        parent = str(self.backups.parent)
        self.engine.docker("run", "--rm", "--volume", f"{parent}:{parent}", self.images["tools"],
                           "rm", "-rf", "--", str(self.backups), timeout=300)
        return str(self.backups)


_FLAGS = {"meeshy:dockerSsh.identityFile": "--ssh-key", "meeshy:dockerSsh.knownHosts": "--known-hosts",
          "meeshy:dockerSsh": "--ssh-key and --known-hosts", "meeshy:dockerHost": "--docker-host"}


def engine_settings(args) -> dict:
    """The rehearse flags as the stack file keys they become on both stacks."""
    host = getattr(args, "docker_host", None)
    ssh = {k: str(v) for k, v in (("identityFile", getattr(args, "ssh_key", None)),
                                  ("knownHosts", getattr(args, "known_hosts", None))) if v}
    return {"meeshy:dockerHost": host, **({"meeshy:dockerSsh": ssh} if ssh else {})}


def engine_problems(args) -> list[str]:
    """What stops the rehearsal from using --docker-host, checked as a verb checks its stack's
    engine (ops/remote_host.py: the flags, the files, then one ssh connection), in the flags'
    words."""
    from ops.remote_host import remote_problems
    host = getattr(args, "docker_host", None)
    if host and not host.startswith("ssh://"):
        return [f"--docker-host {host}: expected ssh://user@host[:port] (the local engine is the "
                "default)"]
    found = remote_problems(engine_settings(args))
    for key in sorted(_FLAGS, key=len, reverse=True):   # the longest key first
        found = [problem.replace(key, _FLAGS[key]) for problem in found]
    return found


def engine_of(args) -> Engine:
    from ops.remote_host import docker_access
    host, ssh, _ = docker_access(engine_settings(args))
    return Engine(host, ssh) if host else LOCAL
