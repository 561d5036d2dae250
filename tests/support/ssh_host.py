"""The SSH test host (tools/test-host.sh) as the end-to-end tests use it: started once per
session (and removed after, unless it was already up), its engine's labelled resources, and a
DockerStack whose engine is that host."""
from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from commands.docker import docker, ssh_environment
from config.docker_access import ssh_options
from config.naming import STACK_LABEL
from ops.rehearse.stacks import local_stack_settings
from tests.support.docker_stack import REPO_ROOT, DockerStack

SCRIPT = REPO_ROOT / "tools" / "test-host.sh"
# The server's disk: /srv in the test host's own mount namespace (not this machine's /srv).
SERVER_BACKUPS = "/srv/meeshy-backups"


@dataclass(frozen=True)
class SshHost:
    docker_host: str
    key: str
    known_hosts: str
    no_docker_host: str

    @property
    def address(self) -> str:
        return self.docker_host.rsplit("@", 1)[1]

    def settings(self, **changed: str) -> dict:
        ssh = {"identityFile": changed.get("key", self.key),
               "knownHosts": changed.get("known_hosts", self.known_hosts)}
        return {"meeshy:dockerHost": changed.get("host", self.docker_host), "meeshy:dockerSsh": ssh}

    def environment(self) -> dict[str, str]:
        return ssh_environment(ssh_options(self.key, self.known_hosts))

    def docker(self, *args: str, check: bool = True, timeout: float = 120) -> str:
        done = subprocess.run([*docker(self.docker_host), *args], capture_output=True, text=True,
                              env={**os.environ, **self.environment()}, timeout=timeout)
        if check and done.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)} on the test host: {done.stderr.strip()}")
        return done.stdout


def run_script(verb: str, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run([str(SCRIPT), verb], capture_output=True, text=True, timeout=timeout)


def parse_env(stdout: str) -> SshHost:
    values = dict(line.split("=", 1) for line in stdout.splitlines() if "=" in line)
    return SshHost(values["MEESHY_TEST_DOCKER_HOST"], values["MEESHY_TEST_SSH_KEY"],
                   values["MEESHY_TEST_SSH_KNOWN_HOSTS"], values["MEESHY_TEST_NO_DOCKER_HOST"])


def labelled(kind: str, stack: str, run_docker) -> list[str]:
    """Names of an engine's containers, networks or volumes labelled with `stack`."""
    listing = {"container": ("ps", "-a"), "network": ("network", "ls"), "volume": ("volume", "ls")}
    fmt = "{{.Names}}" if kind == "container" else "{{.Name}}"
    out = run_docker(*listing[kind], "--filter", f"label={STACK_LABEL}={stack}", "--format", fmt)
    return sorted(line for line in out.splitlines() if line)


class SshStack(DockerStack):
    """A stack of the real project on the SSH test host, driven through `python -m ops`."""

    def __init__(self, workdir: Path, host: SshHost):
        super().__init__(workdir)
        self.host = host
        self.backups = Path(SERVER_BACKUPS) / self.name     # a path on the server

    def settings(self, release: str = "e2e-1", **overrides) -> dict:
        return local_stack_settings(self.images, self.ports, self.backups, domain="e2e.localhost",
                                    release=release, **{**self.host.settings(), **overrides})

    def on_engines(self) -> dict[str, dict[str, list[str]]]:
        from ops.rehearse.local_docker import docker as local_docker
        kinds = ("container", "network", "volume")
        return {"local": {k: labelled(k, self.name, local_docker) for k in kinds},
                "remote": {k: labelled(k, self.name, self.host.docker) for k in kinds}}

    def remove(self) -> dict[str, list[str]]:
        self.pulumi("state", "unprotect", "--all", "--yes", check=False)
        self.pulumi("destroy", "--yes", "--skip-preview", check=False)
        self.pulumi("stack", "rm", "--yes", "--force", check=False)
        left = {k: labelled(k, self.name, self.host.docker) for k in ("container", "network", "volume")}
        for name in left["container"]:
            self.host.docker("rm", "-f", name, check=False)
        for kind in ("network", "volume"):
            for name in left[kind]:
                self.host.docker(kind, "rm", name, check=False)
        self.stack_file.unlink(missing_ok=True)
        return left
