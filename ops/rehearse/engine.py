"""The Docker engine a rehearsal runs on: this machine's (the local socket) or a server reached
over SSH (`rehearse --docker-host ssh://user@host --ssh-key FILE --known-hosts FILE`).

Both are driven by the docker CLI with the access the verbs use (config/docker_access.py,
commands/docker.py: this key only, the pinned host key, strict checking): what the engine holds
under a stack's label, its images, free ports on its host, and the settings that put a stack on
it. Nothing here pulls an image.
"""
from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass

from commands.docker import docker as docker_argv
from commands.docker import ssh_environment
from config.docker_access import DockerSsh, is_remote
from config.naming import STACK_LABEL

KINDS = ("container", "network", "volume")
# Binds `n` ports the kernel picks on every address of the engine's host, all held until printed.
_FREE_PORTS = ("import socket,sys\nheld=[socket.socket() for _ in range(int(sys.argv[1]))]\n"
               "[s.bind(('0.0.0.0',0)) for s in held]\nprint(' '.join(str(s.getsockname()[1]) "
               "for s in held))")


class EngineError(RuntimeError):
    pass


@dataclass(frozen=True)
class Engine:
    docker_host: str | None = None          # None: this machine's engine (the local socket)
    ssh: DockerSsh | None = None

    @property
    def remote(self) -> bool:
        return is_remote(self.docker_host)

    @property
    def name(self) -> str:
        return self.docker_host if self.remote else "local socket"

    def environment(self) -> dict[str, str]:
        """What a docker CLI (or Pulumi, or a step) needs in its environment for this engine."""
        return ssh_environment(self.ssh.options) if self.remote and self.ssh else {}

    def stack_settings(self) -> dict:
        """The stack file's keys that put a stack on this engine (none for the local socket)."""
        if not self.remote:
            return {}
        return {"meeshy:dockerHost": self.docker_host,
                "meeshy:dockerSsh": {"identityFile": self.ssh.identity_file,
                                     "knownHosts": self.ssh.known_hosts}}

    def docker(self, *args: str, check: bool = True, timeout: float = 120) -> str:
        host = self.docker_host if self.remote else None
        done = subprocess.run([*docker_argv(host), *args], capture_output=True, text=True,
                              env={**os.environ, **self.environment()}, timeout=timeout)
        if check and done.returncode != 0:
            raise EngineError(f"docker {' '.join(args)} on {self.name} failed: {done.stderr.strip()}")
        return done.stdout

    def version(self) -> str:
        return self.docker("version", "--format", "{{.Server.Version}}", timeout=60).strip()

    def labelled(self, kind: str, stack: str) -> list[str]:
        """Names of the engine's containers, networks or volumes labelled with `stack`."""
        listing = {"container": ("ps", "-a"), "network": ("network", "ls"), "volume": ("volume", "ls")}
        fmt = "{{.Names}}" if kind == "container" else "{{.Name}}"
        out = self.docker(*listing[kind], "--filter", f"label={STACK_LABEL}={stack}", "--format", fmt)
        return sorted(line for line in out.splitlines() if line)

    def holdings(self, stack: str) -> dict[str, list[str]]:
        return {kind: self.labelled(kind, stack) for kind in KINDS}

    def remove_labelled(self, stack: str) -> dict[str, list[str]]:
        """The last resort after a destroy: what was still on the engine under the stack's
        label, removed (containers first, since they hold the networks and volumes)."""
        left = self.holdings(stack)
        for name in left["container"]:
            self.docker("rm", "-f", name, check=False)
        for kind in ("network", "volume"):
            for name in left[kind]:
                self.docker(kind, "rm", name, check=False)
        return left

    def inspect(self, kind: str, name: str) -> dict:
        return json.loads(self.docker(kind, "inspect", name))[0]

    def image_ids(self, refs: dict[str, str]) -> dict[str, str]:
        """`key -> image id` on this engine ("" for a reference it does not hold)."""
        return {key: self.docker("image", "inspect", "--format", "{{.Id}}", ref, check=False).strip()
                for key, ref in refs.items()}

    def free_ports(self, count: int, tools_image: str) -> list[int]:
        """`count` distinct ports free on the engine's host now: asked of the host itself (a
        tools container on its host network), since this machine's free ports say nothing of a
        server's."""
        out = self.docker("run", "--rm", "--network", "host", tools_image, "python", "-c",
                          _FREE_PORTS, str(count), timeout=180)
        return [int(port) for port in out.split()]


LOCAL = Engine()
