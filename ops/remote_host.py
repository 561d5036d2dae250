"""The stack's Docker engine when it is a server reached over SSH (`meeshy:dockerHost: ssh://`).

Before a verb changes anything, `reachability_problem` opens one ssh connection with the stack's
key and pinned host key and asks the remote engine its version; each way that fails is one
sentence (the verb then exits 2 with nothing changed): host unreachable, key refused, host key
changed or unknown, no Docker engine there. `use_docker_access` then gives this process (and
the Pulumi engine and the steps it starts) the environment the docker CLI needs to use the same
key and known_hosts file (commands/docker.py ssh_environment).
"""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from commands.docker import ssh_environment, ssh_probe, without_ssh_shim
from config import validation as v
from config.docker_access import SSH_CONNECT_TIMEOUT, DockerSsh, is_remote, parse_docker_ssh

PROBE_TIMEOUT = SSH_CONNECT_TIMEOUT + 20

_UNREACHABLE = re.compile(r"Connection refused|No route to host|timed out|Could not resolve "
                          r"hostname|Network is unreachable|Connection closed by remote host")


def docker_access(values: dict) -> tuple[str | None, DockerSsh | None, list[str]]:
    """(dockerHost, its ssh settings, their problems) from a stack file's plain values."""
    problems = v.Problems()
    host = values.get("meeshy:dockerHost")
    ssh = parse_docker_ssh(values.get("meeshy:dockerSsh"), "meeshy:dockerSsh", host, problems)
    return host, ssh, problems.items


def file_problems(ssh: DockerSsh) -> list[str]:
    found = []
    for key, path in (("identityFile", ssh.identity_file), ("knownHosts", ssh.known_hosts)):
        if not Path(path).is_file():
            found.append(f"meeshy:dockerSsh.{key}: no file {path} on this machine")
    return found


def classify(host: str, ssh: DockerSsh, returncode: int, stderr: str) -> str | None:
    """One sentence for what stopped the probe, or None when the remote engine answered."""
    if returncode == 0:
        return None
    text = " ".join(stderr.split())
    if "REMOTE HOST IDENTIFICATION HAS CHANGED" in stderr:
        return (f"the host key of {host} has changed since it was pinned in {ssh.known_hosts}; "
                "nothing was changed (if the server was really reinstalled, replace its line "
                "there after checking the new key with its administrator)")
    if "Host key verification failed" in stderr or "host key is known" in stderr:
        return (f"the host key of {host} is not pinned in {ssh.known_hosts}; nothing was changed "
                "(add the server's key there, checked with its administrator)")
    if "Permission denied" in stderr and "publickey" in stderr:
        return f"{host} refused the key {ssh.identity_file}; nothing was changed"
    if _UNREACHABLE.search(stderr) or returncode == 255:
        return f"{host} is unreachable over SSH ({_last(text)}); nothing was changed"
    if "Cannot connect to the Docker daemon" in stderr or "Is the docker daemon running" in stderr:
        return f"no Docker engine answers on {host} ({_last(text)}); nothing was changed"
    if returncode == 127 or "command not found" in stderr or "not found" in text:
        return f"{host} has no docker command; nothing was changed"
    if "permission denied" in stderr.lower() and "docker" in stderr.lower():
        return (f"the user of {host} may not use its Docker engine (not in the docker group); "
                "nothing was changed")
    return f"docker on {host} failed (exit {returncode}: {_last(text)}); nothing was changed"


def _last(text: str) -> str:
    return text.strip()[-200:] or "no message"


def reachability_problem(host: str, ssh: DockerSsh) -> str | None:
    try:
        # Plain ssh: options a shim inherited from a caller would add another key.
        done = subprocess.run(ssh_probe(host, ssh.options), stdin=subprocess.DEVNULL,
                              env=without_ssh_shim(os.environ), capture_output=True, text=True,
                              timeout=PROBE_TIMEOUT)
    except subprocess.TimeoutExpired:
        return f"{host} is unreachable over SSH (no answer within {PROBE_TIMEOUT} s); nothing was changed"
    except FileNotFoundError:
        return "no ssh command on this machine (Debian: apt-get install openssh-client)"
    return classify(host, ssh, done.returncode, done.stderr)


def remote_problems(values: dict) -> list[str]:
    """Everything that stops a verb from reaching the stack's remote engine, in order: its
    settings, its files, then one ssh connection. None for a local engine."""
    host, ssh, problems = docker_access(values)
    if not is_remote(host) or problems or ssh is None:
        return problems
    missing = file_problems(ssh)
    if missing:
        return missing
    problem = reachability_problem(host, ssh)
    return [problem] if problem else []


def use_docker_access(values: dict) -> None:
    """Gives this process's environment (inherited by Pulumi and the steps) the stack's ssh
    options for the docker CLI; nothing for a local engine."""
    host, ssh, problems = docker_access(values)
    if is_remote(host) and ssh is not None and not problems:
        os.environ.update(ssh_environment(ssh.options))
