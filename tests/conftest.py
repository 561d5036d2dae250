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
