"""The sentence for each way a database call can fail to answer (pure: no server contacted)."""
import pymongo
import pytest
from pymongo.errors import AutoReconnect, ExecutionTimeout, OperationFailure, ProtocolError

from migration.engine.deadlines import DatabaseFailure, describe, mongo_client, operation


@pytest.fixture
def db():
    client = pymongo.MongoClient("mongodb://192.0.2.7:27999/", connect=False, timeoutMS=4000)
    yield client["meeshy_v2"]
    client.close()


@pytest.mark.parametrize("error, words", [
    (ExecutionTimeout("operation exceeded time limit", 50), "did not answer within 4 s"),
    (ProtocolError("Got response id 31 but expected 30"), "answered another request"),
    (OperationFailure("operation cancelled", 11601), "cancelled the operation"),
    (AutoReconnect("connection reset by peer"), "lost the connection to"),
    (OperationFailure("not authorized", 13), "refused an operation"),
])
def test_each_failure_names_server_database_and_operation(db, error, words):
    message = describe(error, "replacing 50 documents in Message", db)
    assert words in message and "192.0.2.7:27999" in message and "meeshy_v2" in message
    assert "while replacing 50 documents in Message" in message
    assert str(error).splitlines()[0][:40] in message


def test_operation_turns_a_driver_error_into_a_migration_error(db):
    with pytest.raises(DatabaseFailure, match="cancelled the operation while reading"):
        with operation("reading Message", db):
            raise OperationFailure("operation cancelled", 11601)


def bounds(client) -> dict:
    o = client.options
    return {"timeout": o.timeout, "socket": o.pool_options.socket_timeout,
            "connect": o.pool_options.connect_timeout, "selection": o.server_selection_timeout}


@pytest.mark.parametrize("uri_option", [
    "timeoutMS=0", "socketTimeoutMS=0", "connectTimeoutMS=0", "serverSelectionTimeoutMS=999999999",
    "timeoutMS=999999999&socketTimeoutMS=999999999"
])
def test_a_uri_option_cannot_remove_or_lengthen_a_deadline(uri_option):
    """0 means `no deadline` to pymongo; a huge value is as good as none."""
    uri = f"mongodb://192.0.2.7:27999/meeshy?{uri_option}"
    client = mongo_client(uri, 300, connect_seconds=10, connect=False)
    assert bounds(client) == {"timeout": 300, "socket": 300, "connect": 10, "selection": 10}
    client.close()


def test_a_uri_may_shorten_a_deadline():
    uri = "mongodb://192.0.2.7:27999/?socketTimeoutMS=5000&serverSelectionTimeoutMS=2000"
    client = mongo_client(uri, 300, connect=False)
    assert bounds(client) == {"timeout": 300, "socket": 5, "connect": 10, "selection": 2}
    client.close()


PACKAGES = ("migration", "steps", "ops", "takeover", "commands", "components", "config",
            "policy", "bench")


def test_every_client_of_the_project_is_built_by_the_one_place():
    """A MongoClient constructed anywhere else could lack a deadline. (testing/ only starts
    FerretDB for tests; the stand-in gateway image is a program of its own.)"""
    import ast
    from pathlib import Path
    root = Path(__file__).resolve().parents[3]
    builders = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Call) and getattr(node.func, "attr",
                                                          getattr(node.func, "id", "")) == "MongoClient":
                    builders.append(f"{path.relative_to(root)}:{node.lineno}")
    assert builders == ["migration/engine/deadlines.py:" + str(_line_of_the_builder(root))]


def _line_of_the_builder(root) -> int:
    text = (root / "migration/engine/deadlines.py").read_text().splitlines()
    return next(n for n, line in enumerate(text, 1) if "pymongo.MongoClient(" in line)
