"""The local Docker engine as rehearsals and their tests see it: the local images
(`tools/build-images.sh --list`), free loopback ports, the docker CLI, and what the engine holds
under a stack's label (ops/rehearse/engine.py's Engine for the local socket). Nothing here pulls
an image or talks to anything but the local engine.
"""
from __future__ import annotations

import random
import socket
import subprocess

from config.locations import REPO_ROOT
from ops.rehearse.engine import KINDS, LOCAL, EngineError  # noqa: F401 - imported from here too

# The services of a rehearsal stack (the local images' keys, `tools/build-images.sh --list`).
SERVICE_IMAGES = ("traefik", "mongo", "redis", "translator", "gateway", "web", "static", "maintenance")


def local_images() -> dict[str, str]:
    """`key -> reference` of the images tools/build-images.sh builds (variants as `key@variant`)."""
    done = subprocess.run([str(REPO_ROOT / "tools" / "build-images.sh"), "--list"],
                          capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise EngineError(f"tools/build-images.sh --list failed: {done.stderr.strip()[-300:]}")
    return dict(line.split(" ", 1) for line in done.stdout.splitlines() if line.strip())


# Below Linux's ephemeral range (32768-60999 by default): a port the kernel hands out to any
# outgoing connection (an ssh tunnel's, a plugin's) can be taken between this choice and the
# container that publishes it; a CI run lost Traefik's port so.
PORT_RANGE = (20000, 32000)


def free_port() -> int:
    """A port nothing listens on now, on loopback, outside the ephemeral range."""
    for _ in range(500):
        port = random.randint(*PORT_RANGE)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORT_RANGE[0]}-{PORT_RANGE[1]} after 500 tries")


def docker(*args: str, check: bool = True, timeout: float = 120) -> str:
    return LOCAL.docker(*args, check=check, timeout=timeout)


def labelled(kind: str, stack: str) -> list[str]:
    """Names of the local engine's containers, networks or volumes labelled with `stack`."""
    return LOCAL.labelled(kind, stack)


def remove_labelled(stack: str) -> dict[str, list[str]]:
    return LOCAL.remove_labelled(stack)


def inspect(kind: str, name: str) -> dict:
    return LOCAL.inspect(kind, name)
