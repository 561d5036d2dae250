"""How a rehearsal on a server reached over SSH reaches its stacks' ports: `ssh -L` tunnels from
this machine's loopback to the server's loopback, with the options of every connection to that
engine (its key only, the pinned host key, strict checking; config/docker_access.py).

The database is published on the server's 127.0.0.1 only, so a tunnel is the one way in that
opens nothing on the server; the load goes through the same kind of tunnel to Traefik's https
port, so the rehearsal needs no port of the server reachable from the network (a firewall may
close them all). One ssh process per stack, started and always stopped by the rehearsal:
`open` waits a bounded time for every local end to accept connections (ssh binds them only once
the server has accepted the key and its host key matched) and `close` ends the process by its
own pid (SIGTERM, then SIGKILL).
"""
from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
from typing import Mapping

from commands.docker import ssh_target, without_ssh_shim
from ops.rehearse.local_docker import free_port

LOOPBACK = "127.0.0.1"
OPEN_WAIT_SECONDS = 30.0
STOP_WAIT_SECONDS = 10.0


class TunnelError(RuntimeError):
    pass


def tunnel_argv(docker_host: str, options: list[str], forwards: Mapping[int, int]) -> list[str]:
    """`ssh -N` forwarding each `local port -> remote port`, both on loopback; it exits at once
    when a forward cannot be set up, and when the server stops answering for 45 s."""
    argv = ["ssh", *options, "-N", "-o", "ExitOnForwardFailure=yes",
            "-o", "ServerAliveInterval=15", "-o", "ServerAliveCountMax=3"]
    for local, remote in forwards.items():
        argv += ["-L", f"{LOOPBACK}:{local}:{LOOPBACK}:{remote}"]
    return [*argv, *ssh_target(docker_host)]


class Tunnel:
    """Forwards `remote` ports (name -> port on the server's loopback) to free local ports
    (`local`: name -> port on this machine's 127.0.0.1)."""

    def __init__(self, docker_host: str, options: list[str], remote: Mapping[str, int]):
        self.docker_host, self.options = docker_host, list(options)
        self.remote = dict(remote)
        self.local = {name: free_port() for name in self.remote}
        self.process: subprocess.Popen | None = None
        self._errors = tempfile.TemporaryFile()

    def describe(self) -> dict:
        return {name: f"{LOOPBACK}:{self.local[name]} -> {self.docker_host} {LOOPBACK}:{port}"
                for name, port in self.remote.items()}

    def open(self, wait_seconds: float = OPEN_WAIT_SECONDS) -> "Tunnel":
        forwards = {self.local[name]: port for name, port in self.remote.items()}
        # Plain ssh: the shim's options, inherited from the environment, would come twice.
        self.process = subprocess.Popen(tunnel_argv(self.docker_host, self.options, forwards),
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=self._errors, env=without_ssh_shim(os.environ))
        deadline = time.monotonic() + wait_seconds
        waiting = set(self.local.values())
        while waiting:
            if self.process.poll() is not None:
                raise TunnelError(f"ssh tunnel to {self.docker_host} ended (exit "
                                  f"{self.process.returncode}): {self._stderr()}")
            if time.monotonic() > deadline:
                self.close()
                raise TunnelError(f"ssh tunnel to {self.docker_host} not ready within "
                                  f"{wait_seconds:.0f} s: {self._stderr()}")
            waiting = {port for port in waiting if not _accepts(port)}
            if waiting:
                time.sleep(0.2)
        return self

    def close(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=STOP_WAIT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_WAIT_SECONDS)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def _stderr(self) -> str:
        self._errors.seek(0)
        text = " ".join(self._errors.read().decode(errors="replace").split())
        return text[-300:] or "no message"


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection((LOOPBACK, port), timeout=1):
            return True
    except OSError:
        return False
