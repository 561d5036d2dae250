"""Shared fixtures. The FerretDB server is started once per test session (its start costs a
fraction of a second but every migration test needs one); tests isolate themselves by database
name through `fresh_db`."""
from __future__ import annotations

import itertools
import pathlib
import sys

import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from testing.ferretdb import FerretDB, FerretDBError  # noqa: E402

_db_counter = itertools.count(1)


# Tests that share the SSH test host run in one worker: its session fixture starts the host and
# removes it at that worker's end, which another worker must not see mid-test.
_SHARED_HOST_FIXTURES = ("ssh_host",)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Under `--dist loadgroup` (tools/test.sh) a whole test file goes to one worker, so its
    module-scoped stacks are built once; tests on the shared SSH host form one group."""
    group_of_file: dict[str, str] = {}
    for item in items:
        path = item.nodeid.split("::", 1)[0]
        shared = [f for f in _SHARED_HOST_FIXTURES if f in getattr(item, "fixturenames", ())]
        if shared or path not in group_of_file:
            group_of_file[path] = shared[0] if shared else path
    for item in items:
        item.add_marker(pytest.mark.xdist_group(group_of_file[item.nodeid.split("::", 1)[0]]))


@pytest.fixture(scope="session")
def ferretdb():
    """A running FerretDB for the whole session; fails (never skips) when it cannot start."""
    server = FerretDB()
    try:
        server.start()
    except FerretDBError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield server
    server.stop()


@pytest.fixture
def fresh_db(ferretdb):
    """A factory of database names never used before in this session: fresh_db("source")."""
    def make(label: str = "db") -> str:
        return f"{label}_{next(_db_counter)}"
    return make
