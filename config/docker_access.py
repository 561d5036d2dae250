"""How the stack's Docker engine is reached: `meeshy:dockerHost` and, for an ssh:// engine,
`meeshy:dockerSsh` (the key and the known_hosts file every connection uses).

    meeshy:dockerHost: ssh://deploy@server.example
    meeshy:dockerSsh:
      identityFile: /home/ops/.ssh/meeshy_deploy      # private key, on the operator's machine
      knownHosts: /home/ops/.ssh/meeshy_known_hosts    # the server's pinned host key

Both paths are required with an ssh:// host and refused with a unix:// one. Strict host key
checking is not a setting: an unknown or changed host key always stops the connection.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from config import validation as v

SSH_FIELDS = {"identityFile": "identity_file", "knownHosts": "known_hosts"}
SSH_CONNECT_TIMEOUT = 10


def ssh_options(identity_file: str, known_hosts: str) -> list[str]:
    """The ssh options of every connection to an ssh:// engine: this key only, no prompt, and
    the host key checked against this known_hosts file (a changed or unknown key is refused)."""
    return ["-i", identity_file, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
            "-o", f"UserKnownHostsFile={known_hosts}", "-o", "StrictHostKeyChecking=yes",
            "-o", f"ConnectTimeout={SSH_CONNECT_TIMEOUT}"]


@dataclass(frozen=True)
class DockerSsh:
    identity_file: str
    known_hosts: str

    @property
    def options(self) -> list[str]:
        return ssh_options(self.identity_file, self.known_hosts)


def is_remote(docker_host: str | None) -> bool:
    return bool(docker_host) and docker_host.startswith("ssh://")


def parse_docker_ssh(raw: Any, key: str, docker_host: str | None,
                     problems: v.Problems) -> DockerSsh | None:
    raw = v.decode(raw)
    if not is_remote(docker_host):
        if raw not in (None, {}):
            problems.add(key, "set only with an ssh:// meeshy:dockerHost (the local socket needs "
                              "no key)")
        return None
    if not isinstance(raw, dict):
        problems.add(key, "required with an ssh:// meeshy:dockerHost: a mapping with identityFile "
                          "(the private key) and knownHosts (the file pinning the server's host key)")
        return None
    v.unknown_keys(raw, set(SSH_FIELDS), key, problems)
    values = {}
    for name, attr in SSH_FIELDS.items():
        path = v.absolute_path(raw.get(name), f"{key}.{name}", problems)
        if path and any(c.isspace() for c in path):
            problems.add(f"{key}.{name}", f"expected a path without spaces, got {path!r}")
            path = None
        values[attr] = path
    if None in values.values():
        return None
    return DockerSsh(**values)
