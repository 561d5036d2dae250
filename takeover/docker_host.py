"""Runs the docker CLI command lines of commands/docker.py, bounded, and reads their JSON.

Everything the audit and the takeover know about the host comes through here, from the engine
itself: nothing is looked up by a guessed name without checking what the engine answered.
Errors name the command (its first words only: arguments may carry file paths of secrets)
and the engine's own message.
"""
from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass

from commands import docker as docker_cli

DEFAULT_TIMEOUT = 60.0


class DockerError(RuntimeError):
    """The docker CLI failed or is missing; the message says which command and why."""

    def __init__(self, message: str, *, returncode: int | None = None, stderr: str = ""):
        super().__init__(message)
        self.returncode, self.stderr = returncode, stderr


def _what(argv: list[str]) -> str:
    words = [a for a in argv[1:] if not a.startswith("-")][:3]
    return "docker " + " ".join(words)


@dataclass
class Engine:
    docker_host: str | None = None
    timeout: float = DEFAULT_TIMEOUT

    def run(self, argv: list[str], *, timeout: float | None = None, input_text: str | None = None,
            check: bool = True) -> subprocess.CompletedProcess:
        executable = shutil.which(argv[0])
        if executable is None:
            raise DockerError(f"`{argv[0]}` is not on PATH: install the docker CLI "
                              "(tools/build-docker-engine.sh installs Debian's docker.io)")
        try:
            done = subprocess.run([executable, *argv[1:]], capture_output=True, text=True,
                                  input=input_text, timeout=timeout or self.timeout)
        except subprocess.TimeoutExpired:
            raise DockerError(f"{_what(argv)} did not answer within "
                              f"{timeout or self.timeout:.0f} s") from None
        if check and done.returncode != 0:
            raise DockerError(f"{_what(argv)} failed (exit {done.returncode}): "
                              f"{done.stderr.strip()[-800:]}", returncode=done.returncode,
                              stderr=done.stderr)
        return done

    def json(self, argv: list[str], **kwargs):
        out = self.run(argv, **kwargs).stdout
        try:
            return json.loads(out)
        except json.JSONDecodeError as error:
            raise DockerError(f"{_what(argv)} printed no JSON ({error}): {out[:200]!r}") from None

    def lines(self, argv: list[str], **kwargs) -> list[str]:
        return [line.strip() for line in self.run(argv, **kwargs).stdout.splitlines() if line.strip()]

    # The reads the audit and the takeover share.
    def server_version(self) -> str:
        try:
            done = self.run(docker_cli.server_version(docker_host=self.docker_host), timeout=15)
            return done.stdout.strip()
        except DockerError as error:
            raise DockerError(f"no Docker engine answers ({error}); start one "
                              "(tools/build-docker-engine.sh) or give --docker-host") from None

    def inspect_containers(self, refs: list[str]) -> list[dict]:
        return self.json(docker_cli.container_inspect(refs, docker_host=self.docker_host)) if refs else []

    def _inspect_each(self, builder, refs: list[str]) -> dict[str, dict]:
        """{reference as given: inspect}, one call per reference, so one the engine no longer
        has is absent instead of failing the others."""
        found: dict[str, dict] = {}
        for ref in dict.fromkeys(refs):
            done = self.run(builder([ref], docker_host=self.docker_host), check=False)
            if done.returncode == 0:
                found[ref] = json.loads(done.stdout)[0]
        return found

    def inspect_images(self, refs: list[str]) -> dict[str, dict]:
        return self._inspect_each(docker_cli.image_inspect, refs)

    def inspect_volumes(self, names: list[str]) -> dict[str, dict]:
        return self._inspect_each(docker_cli.volume_inspect, names)

    def inspect_networks(self, refs: list[str]) -> dict[str, dict]:
        return self._inspect_each(docker_cli.network_inspect, refs)
