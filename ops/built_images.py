"""Images the bootstrap builds in the background (DocumentDB, Meeshy's gateway): they outlive
the bootstrap, so whatever runs them waits for them, bounded, reading the status file each
build writes in the tool cache's logs ("building", "failed: ...", "ready TAG"). A failed build,
or none running, is said at once, naming the script to run and its log.
"""
from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass

from config.locations import tools_dir

DEFAULT_WAIT_SECONDS = 1800     # MEESHY_DOCUMENTDB_WAIT overrides it


class ImageNotBuilt(RuntimeError):
    pass


@dataclass(frozen=True)
class BackgroundImage:
    what: str       # as a sentence names it: "DocumentDB", "gateway"
    status: str     # its status file in the logs folder
    log: str        # its build log there
    script: str     # what builds it


DOCUMENTDB = BackgroundImage("DocumentDB", "documentdb.status", "build-documentdb.log",
                             "tools/build-documentdb.sh")
GATEWAY = BackgroundImage("gateway", "gateway-image.status", "build-gateway-image.log",
                          "tools/build-gateway-image.sh")


def image_present(tag: str) -> bool:
    return subprocess.run(["docker", "image", "inspect", tag], capture_output=True).returncode == 0


def wait_for(image: BackgroundImage, tag: str, timeout: float | None = None,
             poll: float = 5.0, present=image_present) -> None:
    """Returns once `tag` is on the local engine; raises ImageNotBuilt otherwise."""
    timeout = float(os.environ.get("MEESHY_DOCUMENTDB_WAIT", DEFAULT_WAIT_SECONDS)) \
        if timeout is None else timeout
    status_file = tools_dir() / "logs" / image.status
    log_path = tools_dir() / "logs" / image.log
    deadline = time.monotonic() + timeout
    while not present(tag):
        state = status_file.read_text().strip() if status_file.is_file() else ""
        if state.startswith("failed"):
            raise ImageNotBuilt(f"the {image.what} image build {state} (log: {log_path})")
        if not state.startswith("building"):
            raise ImageNotBuilt(f"the {image.what} image {tag} is not built and no build is "
                                f"running: run {image.script} (log: {log_path})")
        if time.monotonic() > deadline:
            raise ImageNotBuilt(f"the {image.what} image {tag} was not built within {timeout:.0f}s "
                                f"(build status: {state}; log: {log_path})")
        time.sleep(poll)
