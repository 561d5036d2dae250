"""The sentence for each way a database call can fail to answer (pure: no server contacted)."""
import pymongo
import pytest
from pymongo.errors import AutoReconnect, ExecutionTimeout, OperationFailure, ProtocolError

from migration.engine.deadlines import DatabaseFailure, client_options, describe, operation


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


def test_deadlines_the_uri_sets_itself_are_left_to_it():
    options = client_options({"sockettimeoutms": 5}, 300)
    assert "socketTimeoutMS" not in options
    assert options["timeoutMS"] == 300_000 and options["connectTimeoutMS"] > 0
