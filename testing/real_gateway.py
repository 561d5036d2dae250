"""Meeshy's real gateway (the image tools/build-gateway-image.sh builds from its source) on the
local Docker engine, with what it needs at start: DocumentDB (testing/documentdb.py) and Redis
(the local redis image), on a Docker network of its own. Only the gateway's port and
DocumentDB's are published, on 127.0.0.1; secrets reach the containers through the environment
of `docker run` (`-e NAME`), never its command line.

The bootstrap builds the gateway image in the background; `start` waits for it like the
DocumentDB tests wait for theirs (bounded by MEESHY_DOCUMENTDB_WAIT seconds).

    with RealGatewayStack() as stack:          # DocumentDB up, the gateway not yet
        load(stack.database.client())          # data first: the gateway reads at start
        stack.start_gateway()
        api = MeeshyApi(stack.url)
"""
from __future__ import annotations

import base64
import os
import secrets
import subprocess
import time

from config.wiring import DOCUMENTDB_USER, with_login
from ops import built_images
from ops.meeshy_api import MeeshyApi
from testing.documentdb import REPO_ROOT, DocumentDB, DocumentDBError, wait_for_built_image

BUILD_SCRIPT = REPO_ROOT / "tools" / "build-gateway-image.sh"
DATABASE = "meeshy"
GATEWAY_START_SECONDS = 180


class RealGatewayError(DocumentDBError):
    pass


def image_tag() -> str:
    """The tag this checkout's recipe gives (the script prints it without building)."""
    return subprocess.run([str(BUILD_SCRIPT), "--tag"], check=True, capture_output=True,
                          text=True).stdout.strip()


def wait_for_image(tag: str, timeout: float | None = None, poll: float = 5.0) -> None:
    wait_for_built_image(built_images.GATEWAY, tag, timeout, poll)


def redis_tag() -> str:
    listed = subprocess.run([str(REPO_ROOT / "tools" / "build-images.sh"), "--list"], check=True,
                            capture_output=True, text=True).stdout
    return dict(line.split(" ", 1) for line in listed.splitlines())["redis"]


def _docker(*args: str, env: dict | None = None, check: bool = True) -> str:
    done = subprocess.run(["docker", *args], capture_output=True, text=True, env=env, timeout=120)
    if check and done.returncode != 0:
        raise RealGatewayError(f"docker {args[0]} failed: {done.stderr.strip()[-800:]}")
    return done.stdout.strip()


class RealGatewayStack:
    def __init__(self, tag: str | None = None):
        self.tag = tag
        self.name = f"meeshy-test-realgw-{secrets.token_hex(4)}"
        self.database = DocumentDB()
        self.containers: list[str] = []
        self.network: str | None = None
        self.port: int | None = None
        # What the gateway refuses to start without (its own checks at start).
        self.secrets = {"JWT_SECRET": secrets.token_urlsafe(48),
                        "ENCRYPTION_MASTER_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
                        "ATTACHMENT_MASTER_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
                        "TURN_SECRET": secrets.token_urlsafe(48)}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def database_url(self) -> str:
        """The database as the gateway's network reaches it (with the login: a secret)."""
        return with_login(f"mongodb://documentdb:27017/{DATABASE}", DOCUMENTDB_USER,
                          self.database.password)

    def start(self) -> "RealGatewayStack":
        """DocumentDB and Redis on a new network; the gateway image is waited for."""
        self.tag = self.tag or image_tag()
        wait_for_image(self.tag)
        try:
            self.network = _docker("network", "create", "--label", "meeshy.test=realgw", self.name)
            self.database.start()
            _docker("network", "connect", "--alias", "documentdb", self.network, self.database.name)
            self._run("redis", redis_tag())
        except BaseException:
            self.stop()
            raise
        return self

    def _run(self, alias: str, image: str, *args: str, env: dict | None = None) -> str:
        container = _docker("run", "-d", "--name", f"{self.name}-{alias}", "--network", self.network,
                            "--network-alias", alias, "--label", "meeshy.test=realgw", *args, image,
                            env=env)
        self.containers.append(container)
        return container

    def start_gateway(self, timeout: float = GATEWAY_START_SECONDS) -> None:
        """The gateway, published on a free 127.0.0.1 port; returns once /health answers 200."""
        env = {**os.environ, **self.secrets, "DATABASE_URL": self.database_url,
               "REDIS_URL": "redis://redis:6379"}
        names = ["DATABASE_URL", "REDIS_URL", *self.secrets]
        self.gateway = self._run("gateway", self.tag, "-p", "127.0.0.1::3000",
                                 *(arg for name in names for arg in ("-e", name)), env=env)
        self.port = int(_docker("port", self.gateway, "3000/tcp").splitlines()[0].rsplit(":", 1)[1])
        api, deadline, last = MeeshyApi(self.url, timeout=5), time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            if _docker("inspect", "-f", "{{.State.Running}}", self.gateway) != "true":
                raise RealGatewayError(f"the gateway exited at start. Its log:\n{self.log_tail()}")
            try:
                last = api.health()
                if last.status == 200:
                    return
            except OSError as exc:
                last = exc
            time.sleep(1)
        raise RealGatewayError(f"the gateway's /health did not answer 200 within {timeout:.0f}s "
                               f"(last: {last}). Its log:\n{self.log_tail()}")

    def log_tail(self, lines: int = 60) -> str:
        done = subprocess.run(["docker", "logs", "--tail", str(lines), f"{self.name}-gateway"],
                              capture_output=True, text=True)
        return (done.stdout + done.stderr).strip() or "(no log)"

    def stop(self) -> None:
        for container in reversed(self.containers):
            _docker("rm", "-f", "-v", container, check=False)
        self.containers = []
        self.database.stop()
        if self.network:
            _docker("network", "rm", self.network, check=False)
            self.network = None

    def __enter__(self) -> "RealGatewayStack":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
