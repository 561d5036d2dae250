"""A throwaway FerretDB (MongoDB wire protocol over SQLite) for tests and benchmarks.

No MongoDB server can be had on this machine; FerretDB v1.24.2 built by tools/bootstrap.sh is
the real database the suite talks to. Each instance listens on a free 127.0.0.1 port chosen by
the kernel (port 0, read back from FerretDB's log, so two suites never race for a port) and keeps
its data in a temporary directory removed at stop.

    with FerretDB() as server:
        client = server.client()
        uri = server.uri("meeshy")
"""
from __future__ import annotations

import atexit
import os
import pathlib
import re
import shutil
import signal
import subprocess
import tempfile
import time

import pymongo

START_TIMEOUT_SECONDS = 30
_LISTENING = re.compile(r"Listening on TCP 127\.0\.0\.1:(\d+)")


def tools_dir() -> pathlib.Path:
    return pathlib.Path(os.environ.get("MEESHY_TOOLS_DIR") or
                        pathlib.Path.home() / ".cache" / "meeshy-infra")


def ferretdb_binary() -> pathlib.Path:
    return tools_dir() / "bin" / "ferretdb"


def _die_with_parent() -> None:
    """In the child: SIGTERM when the process that started us dies, however it dies (a test
    run killed by a timeout runs no atexit handler and would leave FerretDB behind).
    Linux ties this to the starting *thread*: start FerretDB from a thread that outlives it."""
    try:
        import ctypes
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
    except OSError:
        pass  # not Linux: atexit and stop() remain


class FerretDBError(RuntimeError):
    pass


class FerretDB:
    def __init__(self, binary: os.PathLike | None = None,
                 start_timeout: float = START_TIMEOUT_SECONDS):
        self.binary = pathlib.Path(binary) if binary else ferretdb_binary()
        self.start_timeout = start_timeout
        self.port: int | None = None
        self.process: subprocess.Popen | None = None
        self.workdir: pathlib.Path | None = None

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> "FerretDB":
        if not self.binary.is_file() or not os.access(self.binary, os.X_OK):
            raise FerretDBError(
                f"FerretDB is not built: {self.binary} is missing. "
                f"Run tools/bootstrap.sh test (it builds FerretDB v1.24.2 into that cache).")
        self.workdir = pathlib.Path(tempfile.mkdtemp(prefix="meeshy-ferretdb-"))
        data = self.workdir / "data"
        data.mkdir()
        log = open(self.log_path, "wb")
        try:
            self.process = subprocess.Popen(
                [str(self.binary), "--handler=sqlite", f"--sqlite-url=file:{data}/",
                 "--listen-addr=127.0.0.1:0", "--telemetry=disable", "--debug-addr=-",
                 f"--state-dir={self.workdir}", "--log-level=INFO"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,  # our signals (Ctrl-C on pytest) stay ours
                preexec_fn=_die_with_parent)
        finally:
            log.close()
        atexit.register(self.stop)
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop(keep_log=True)
            raise
        return self

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        while self.port is None:
            if self.process.poll() is not None:
                raise FerretDBError(f"FerretDB exited with code {self.process.returncode} "
                                    f"at start. Its log:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise FerretDBError(f"FerretDB did not listen within {self.start_timeout}s. "
                                    f"Its log:\n{self.log_tail()}")
            match = _LISTENING.search(self.log_path.read_text(errors="replace"))
            if match:
                self.port = int(match.group(1))
            else:
                time.sleep(0.05)
        remaining = max(1.0, deadline - time.monotonic())
        client = pymongo.MongoClient(self.uri(), serverSelectionTimeoutMS=int(remaining * 1000))
        try:
            client.admin.command("ping")
        except pymongo.errors.PyMongoError as exc:
            raise FerretDBError(f"FerretDB listens on {self.port} but does not answer ping: "
                                f"{exc}. Its log:\n{self.log_tail()}") from exc
        finally:
            client.close()

    def stop(self, keep_log: bool = False) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        if self.workdir is not None and not keep_log:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    def __enter__(self) -> "FerretDB":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- access ---------------------------------------------------------------------------
    @property
    def log_path(self) -> pathlib.Path:
        return self.workdir / "ferretdb.log"

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def uri(self, database: str = "") -> str:
        if self.port is None:
            raise FerretDBError("FerretDB is not started")
        return f"mongodb://127.0.0.1:{self.port}/{database}"

    def client(self, **kwargs) -> pymongo.MongoClient:
        kwargs.setdefault("serverSelectionTimeoutMS", 10_000)
        return pymongo.MongoClient(self.uri(), **kwargs)
