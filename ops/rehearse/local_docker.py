"""The local Docker engine as rehearsals and their tests see it: the local images
(`tools/build-images.sh --list`), free loopback ports, the docker CLI, and what an engine holds
under a stack's label. Nothing here pulls an image or talks to anything but the local engine.
"""
from __future__ import annotations

import socket
import subprocess

from config.locations import REPO_ROOT
from config.naming import STACK_LABEL

KINDS = ("container", "network", "volume")
# The services of a rehearsal stack (the local images' keys, `tools/build-images.sh --list`).
SERVICE_IMAGES = ("traefik", "mongo", "redis", "translator", "gateway", "web", "static", "maintenance")


class EngineError(RuntimeError):
    pass


def local_images() -> dict[str, str]:
    """`key -> reference` of the images tools/build-images.sh builds (variants as `key@variant`)."""
    done = subprocess.run([str(REPO_ROOT / "tools" / "build-images.sh"), "--list"],
                          capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise EngineError(f"tools/build-images.sh --list failed: {done.stderr.strip()[-300:]}")
    return dict(line.split(" ", 1) for line in done.stdout.splitlines() if line.strip())


def free_port() -> int:
    """A port nothing listens on now, on loopback (the kernel picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def docker(*args: str, check: bool = True, timeout: float = 120) -> str:
    done = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise EngineError(f"docker {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def labelled(kind: str, stack: str) -> list[str]:
    """Names of the engine's containers, networks or volumes labelled with `stack`."""
    listing = {"container": ("ps", "-a"), "network": ("network", "ls"), "volume": ("volume", "ls")}
    fmt = "{{.Names}}" if kind == "container" else "{{.Name}}"
    out = docker(*listing[kind], "--filter", f"label={STACK_LABEL}={stack}", "--format", fmt)
    return sorted(line for line in out.splitlines() if line)


def remove_labelled(stack: str) -> dict[str, list[str]]:
    """The last resort after a destroy: what was still on the engine under the stack's label,
    removed (containers first, since they hold the networks and volumes)."""
    left = {kind: labelled(kind, stack) for kind in KINDS}
    for name in left["container"]:
        docker("rm", "-f", name, check=False)
    for kind in ("network", "volume"):
        for name in left[kind]:
            docker(kind, "rm", name, check=False)
    return left


def inspect(kind: str, name: str) -> dict:
    import json
    return json.loads(docker(kind, "inspect", name))[0]
