"""The real gateway's image (tools/build-gateway-image.sh): its tag is named by its recipe without
asking an engine, and its test waits for the bootstrap's background build like the DocumentDB
tests do (testing/real_gateway.py), failing at once, naming the log, when the build failed."""
import re
import subprocess
import time

import pytest

from testing.documentdb import DocumentDBError
from testing.real_gateway import BUILD_SCRIPT, wait_for_image

MISSING = "meeshy-local/gateway:meeshy-000000000-never-built"


def test_the_tag_names_the_commit_and_a_hash_of_the_recipe_without_an_engine(tmp_path):
    done = subprocess.run(["bash", str(BUILD_SCRIPT), "--tag"], capture_output=True, text=True,
                          timeout=30, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
                                           "MEESHY_TOOLS_DIR": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"meeshy-local/gateway:meeshy-ea1789df2-[0-9a-f]{12}\n", done.stdout)


@pytest.fixture
def logs(tmp_path, monkeypatch):
    monkeypatch.setenv("MEESHY_TOOLS_DIR", str(tmp_path))
    (tmp_path / "logs").mkdir()
    return tmp_path / "logs"


def test_a_failed_build_fails_at_once_naming_its_log(logs):
    (logs / "gateway-image.status").write_text("failed: pnpm install of the gateway workspace failed\n")
    started = time.monotonic()
    with pytest.raises(DocumentDBError, match="gateway image build failed: pnpm .*build-gateway-image.log"):
        wait_for_image(MISSING, timeout=60, poll=0.1)
    assert time.monotonic() - started < 30


def test_no_build_running_says_how_to_build(logs):
    with pytest.raises(DocumentDBError, match="no build is running: run tools/build-gateway-image.sh"):
        wait_for_image(MISSING, timeout=60, poll=0.1)
