"""The DocumentDB tests wait for the bootstrap's background build of the image, boundedly, and
say why they cannot: a failed build at once, naming its log."""
import time

import pytest

from testing.documentdb import DocumentDBError, wait_for_image

MISSING = "meeshy-local/database:documentdb-0.0.0-never-built"


@pytest.fixture
def logs(tmp_path, monkeypatch):
    monkeypatch.setenv("MEESHY_TOOLS_DIR", str(tmp_path))
    (tmp_path / "logs").mkdir()
    return tmp_path / "logs"


def test_a_failed_build_fails_at_once_naming_its_log(logs):
    (logs / "documentdb.status").write_text("failed: pg_documentdb failed to build\n")
    started = time.monotonic()
    with pytest.raises(DocumentDBError, match="pg_documentdb failed to build .*build-documentdb.log"):
        wait_for_image(MISSING, timeout=60, poll=0.1)
    assert time.monotonic() - started < 30


def test_no_build_running_says_how_to_build(logs):
    with pytest.raises(DocumentDBError, match="no build is running: run tools/build-documentdb.sh"):
        wait_for_image(MISSING, timeout=60, poll=0.1)


def test_a_build_still_running_is_waited_for_until_the_bound(logs):
    (logs / "documentdb.status").write_text("building\n")
    started = time.monotonic()
    with pytest.raises(DocumentDBError, match="was not built within 1s .*building"):
        wait_for_image(MISSING, timeout=1, poll=0.2)
    assert 1 <= time.monotonic() - started < 30
