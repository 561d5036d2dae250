"""A throwaway DocumentDB (PostgreSQL + the DocumentDB extension behind its MongoDB gateway) for
tests and benchmarks: a container of the local image tools/build-documentdb.sh builds, published
on a free 127.0.0.1 port, with a login made for it and removed at stop.

The bootstrap builds that image in the background while the rest of the suite runs; `start`
waits for it (bounded by MEESHY_DOCUMENTDB_WAIT seconds, 1800 by default) and fails at once,
naming the log, when the build says it failed.

    with DocumentDB() as server:
        client = server.client()
        uri = server.uri("meeshy")     # mongodb://USER:PASSWORD@127.0.0.1:PORT/meeshy?authSource=...
"""
from __future__ import annotations

import atexit
import os
import pathlib
import secrets
import subprocess
import time
from urllib.parse import quote

import pymongo

from ops import built_images

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
BUILD_SCRIPT = REPO_ROOT / "tools" / "build-documentdb.sh"
START_TIMEOUT_SECONDS = 120
USERNAME = "meeshy"
DATA_OWNER = 999   # the image's postgres user and group (images/documentdb/Dockerfile)
AUTH = "authSource=admin&authMechanism=SCRAM-SHA-256"


class DocumentDBError(RuntimeError):
    pass


def image_tag() -> str:
    """The tag this checkout's recipe gives (the script prints it without building)."""
    return subprocess.run([str(BUILD_SCRIPT), "--tag"], check=True, capture_output=True,
                          text=True).stdout.strip()


def _image_present(tag: str) -> bool:
    return built_images.image_present(tag)


def wait_for_image(tag: str, timeout: float | None = None, poll: float = 5.0) -> None:
    """Returns once `tag` exists; raises naming the build's status and log otherwise."""
    wait_for_built_image(built_images.DOCUMENTDB, tag, timeout, poll)


def wait_for_built_image(image: built_images.BackgroundImage, tag: str,
                         timeout: float | None = None, poll: float = 5.0) -> None:
    """ops/built_images.py's wait, its failure a DocumentDBError (what the tests catch)."""
    try:
        built_images.wait_for(image, tag, timeout, poll)
    except built_images.ImageNotBuilt as missing:
        raise DocumentDBError(str(missing)) from None


class DocumentDB:
    def __init__(self, tag: str | None = None, start_timeout: float = START_TIMEOUT_SECONDS,
                 image_wait: float | None = None):
        self.tag = tag
        self.start_timeout = start_timeout
        self.image_wait = image_wait
        self.password = secrets.token_urlsafe(18)
        self.name = f"meeshy-test-documentdb-{secrets.token_hex(4)}"
        self.port: int | None = None
        self.container: str | None = None

    def start(self) -> "DocumentDB":
        self.tag = self.tag or image_tag()
        wait_for_image(self.tag, self.image_wait)
        run = subprocess.run(
            ["docker", "run", "-d", "--name", self.name, "--label", "meeshy.test=documentdb",
             "-e", f"DOCUMENTDB_USERNAME={USERNAME}", "-e", "DOCUMENTDB_PASSWORD",
             # Memory-backed data: a test server's cluster need not outlive it.
             "-p", "127.0.0.1::27017", "--tmpfs", f"/data/db:uid={DATA_OWNER},gid={DATA_OWNER}", self.tag],
            capture_output=True, text=True, env={**os.environ, "DOCUMENTDB_PASSWORD": self.password})
        if run.returncode != 0:
            raise DocumentDBError(f"docker run {self.tag} failed: {run.stderr.strip()}")
        self.container = run.stdout.strip()
        atexit.register(self.stop)
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _published_port(self) -> int:
        out = subprocess.run(["docker", "port", self.name, "27017/tcp"], capture_output=True,
                             text=True, check=True).stdout
        return int(out.splitlines()[0].rsplit(":", 1)[1])

    def _wait_until_ready(self) -> None:
        self.port = self._published_port()
        deadline = time.monotonic() + self.start_timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            state = subprocess.run(["docker", "inspect", "-f", "{{.State.Running}}", self.name],
                                   capture_output=True, text=True).stdout.strip()
            if state != "true":
                raise DocumentDBError(f"the DocumentDB container exited at start. Its log:\n"
                                      f"{self.log_tail()}")
            client = pymongo.MongoClient(self.uri(), serverSelectionTimeoutMS=2000)
            try:
                client.admin.command("listDatabases", nameOnly=True)   # needs the login
                return
            except pymongo.errors.PyMongoError as exc:
                last = exc
            finally:
                client.close()
            time.sleep(0.5)
        raise DocumentDBError(f"DocumentDB did not serve a logged-in command within "
                              f"{self.start_timeout}s ({last}). Its log:\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        out = subprocess.run(["docker", "logs", "--tail", str(lines), self.name],
                             capture_output=True, text=True)
        return (out.stdout + out.stderr).strip() or "(no log)"

    def stop(self) -> None:
        container, self.container = self.container, None
        if container:
            subprocess.run(["docker", "rm", "-f", "-v", container], capture_output=True)

    def __enter__(self) -> "DocumentDB":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def uri(self, database: str = "") -> str:
        if self.port is None:
            raise DocumentDBError("DocumentDB is not started")
        return (f"mongodb://{USERNAME}:{quote(self.password, safe='')}@127.0.0.1:{self.port}/"
                f"{database}?{AUTH}")

    def client(self, **kwargs) -> pymongo.MongoClient:
        kwargs.setdefault("serverSelectionTimeoutMS", 10_000)
        return pymongo.MongoClient(self.uri(), **kwargs)
