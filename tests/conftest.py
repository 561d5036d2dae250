"""Shared fixtures. The FerretDB server is started once per test session (its start costs a
fraction of a second but every migration test needs one); tests isolate themselves by database
name through `fresh_db`. A module marked `pytest.mark.servers("ferretdb", "documentdb")` runs
each of its tests on both servers: `ferretdb` is then the server of that run (a DocumentDB
container, started once per session, whose image the bootstrap builds in the background)."""
from __future__ import annotations

import itertools
import pathlib
import sys

import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from testing.documentdb import DocumentDB, DocumentDBError  # noqa: E402
from testing.ferretdb import FerretDB, FerretDBError  # noqa: E402

_db_counter = itertools.count(1)
SERVERS = ("ferretdb", "documentdb")

# The suite runs whole files to a worker, in collection order (tools/test.sh turns off xdist's
# reordering by test count, which queued these behind a hundred small files). Each of these takes
# 5 to 15 minutes, longest first: started at once, they end with the rest instead of after it.
LONGEST_FILES = (
    "tests/e2e/test_ssh_host.py",
    "tests/e2e/test_rehearse.py",
    "tests/e2e/test_docker_platform.py",
    "tests/e2e/test_preview_refresh_overrun.py",
    "tests/e2e/test_switch_rollback.py",
    "tests/e2e/test_takeover_switch_docker.py",
)


def pytest_collection_modifyitems(config, items):
    missing = [name for name in LONGEST_FILES if not (REPO_ROOT / name).is_file()]
    if missing:
        raise pytest.UsageError(f"tests/conftest.py LONGEST_FILES names missing files: {missing}")
    rank = {name: index for index, name in enumerate(LONGEST_FILES)}

    def file_rank(item) -> int:
        return rank.get(item.nodeid.split("::", 1)[0], len(rank))
    items.sort(key=file_rank)


def _started(server, error: type[Exception]):
    try:
        return server.start()
    except error as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def ferretdb_server():
    """A running FerretDB for the whole session; fails (never skips) when it cannot start."""
    server = _started(FerretDB(), FerretDBError)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def documentdb_server():
    """A running DocumentDB for the whole session; fails (never skips) when its image is not
    built in time or the container does not serve."""
    server = _started(DocumentDB(), DocumentDBError)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def ferretdb(request):
    """The server a test talks to: FerretDB, or the one of this run in a module marked
    `servers(...)` (each server is started once per session, whichever tests ask first)."""
    return request.getfixturevalue(f"{getattr(request, 'param', 'ferretdb')}_server")


def pytest_generate_tests(metafunc):
    marker = metafunc.definition.get_closest_marker("servers")
    if marker is None or "ferretdb" not in metafunc.fixturenames:
        return
    unknown = [name for name in marker.args if name not in SERVERS]
    if unknown:
        raise pytest.UsageError(f"{metafunc.definition.nodeid}: servers({', '.join(unknown)}): "
                                f"expected some of {', '.join(SERVERS)}")
    metafunc.parametrize("ferretdb", marker.args, indirect=True, scope="module")


@pytest.fixture
def fresh_db(ferretdb):
    """A factory of database names never used before in this session: fresh_db("source")."""
    def make(label: str = "db") -> str:
        return f"{label}_{next(_db_counter)}"
    return make
