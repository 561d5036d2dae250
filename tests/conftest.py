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
