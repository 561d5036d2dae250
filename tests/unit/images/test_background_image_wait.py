"""The tests that need an image the bootstrap builds in the background (DocumentDB, the real
gateway) wait for it, boundedly, and say why they cannot: a failed build at once, naming its
log; no build running, naming the script that makes it."""
import time
from dataclasses import dataclass
from typing import Callable

import pytest

from testing import documentdb, real_gateway
from testing.documentdb import DocumentDBError


@dataclass(frozen=True)
class Background:
    wait: Callable
    status: str
    log: str
    script: str
    missing: str


BUILDS = {
    "documentdb": Background(documentdb.wait_for_image, "documentdb.status", "build-documentdb.log",
                             "tools/build-documentdb.sh",
                             "meeshy-local/database:documentdb-0.0.0-never-built"),
    "gateway": Background(real_gateway.wait_for_image, "gateway-image.status",
                          "build-gateway-image.log", "tools/build-gateway-image.sh",
                          "meeshy-local/gateway:meeshy-000000000-never-built"),
}


@pytest.fixture(params=sorted(BUILDS))
def build(request, tmp_path, monkeypatch):
    monkeypatch.setenv("MEESHY_TOOLS_DIR", str(tmp_path))
    (tmp_path / "logs").mkdir()
    return BUILDS[request.param], tmp_path / "logs"


def test_a_failed_build_fails_at_once_naming_its_log(build):
    image, logs = build
    (logs / image.status).write_text("failed: the compile failed\n")
    started = time.monotonic()
    with pytest.raises(DocumentDBError, match=f"the compile failed .*{image.log}"):
        image.wait(image.missing, timeout=60, poll=0.1)
    assert time.monotonic() - started < 30


def test_no_build_running_says_how_to_build(build):
    image, _ = build
    with pytest.raises(DocumentDBError, match=f"no build is running: run {image.script}"):
        image.wait(image.missing, timeout=60, poll=0.1)


def test_a_build_still_running_is_waited_for_until_the_bound(build):
    image, logs = build
    (logs / image.status).write_text("building\n")
    started = time.monotonic()
    with pytest.raises(DocumentDBError, match="was not built within 1s .*building"):
        image.wait(image.missing, timeout=1, poll=0.2)
    assert 1 <= time.monotonic() - started < 30
