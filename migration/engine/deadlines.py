"""Deadlines on every database call, and a sentence for every way a call can fail to answer.

Without a deadline a stalled server makes a run wait forever, silently (FerretDB 1.24 stalls
on one command replacing 100 or more existing documents: writer.py keeps replacements below
that). Every client gets connect, server-selection and socket deadlines plus `timeoutMS`
(pymongo's per-operation deadline, sent to MongoDB as `maxTimeMS` too): each find, getMore and
write must answer within it. `operation(what, db)` turns what then goes wrong into a
MigrationError naming the server, the database and what the migration was doing.
"""
from __future__ import annotations

import contextlib

from pymongo.errors import (
    AutoReconnect,
    ExecutionTimeout,
    NetworkTimeout,
    OperationFailure,
    ProtocolError,
    PyMongoError,
    WTimeoutError,
)

from migration.engine.errors import MigrationError

CONNECT_TIMEOUT_MS = 10_000
# The longest single answer a server may take. FerretDB sorts a whole collection before its
# first document comes back (93 s for the x10 Notification collection): well above that.
DEFAULT_TIMEOUT_SECONDS = 300
INTERRUPTED_CODES = {11600, 11601, 11602}   # MongoDB's "operation was interrupted/cancelled"


class DatabaseFailure(MigrationError):
    """A server did not answer in time or answered out of step; exit code 1."""


DEADLINES = ("connectTimeoutMS", "serverSelectionTimeoutMS", "socketTimeoutMS", "timeoutMS")


def client_options(uri_options, timeout_seconds: float,
                   connect_seconds: float = CONNECT_TIMEOUT_MS / 1000) -> dict:
    """Deadlines for a MongoClient. A URI may shorten one, never lengthen or remove it
    (`timeoutMS=0` or `socketTimeoutMS=0` mean none to pymongo): the client's keyword arguments,
    which win over the URI's options, always carry all four."""
    ceilings = {"connectTimeoutMS": connect_seconds, "serverSelectionTimeoutMS": connect_seconds,
                "socketTimeoutMS": timeout_seconds, "timeoutMS": timeout_seconds}
    given = {name.lower(): value for name, value in uri_options.items()}  # seconds, as parsed
    options = {}
    for name, ceiling in ceilings.items():
        value = given.get(name.lower())
        shorter = isinstance(value, (int, float)) and not isinstance(value, bool) \
            and 0 < value < ceiling
        options[name] = max(1, int((value if shorter else ceiling) * 1000))
    return options


def mongo_client(uri: str, timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS, *,
                 connect_seconds: float = CONNECT_TIMEOUT_MS / 1000, **kwargs):
    """The one place this project builds a MongoClient (migration, steps, ops, takeover): every
    client has connect, server-selection and socket timeouts and an operation deadline
    (`timeoutMS`), whatever the URI says. `kwargs` are other client options (appname, ...)."""
    import pymongo
    from pymongo import uri_parser

    options = uri_parser.parse_uri(uri, warn=False)["options"]
    return pymongo.MongoClient(uri, **kwargs,
                               **client_options(options, timeout_seconds, connect_seconds))


def server_of(db) -> str:
    """host:port of the server(s) a database handle talks to, without contacting them."""
    try:
        nodes = db.client.topology_description.server_descriptions()
        return ", ".join(f"{host}:{port}" for host, port in sorted(nodes)) or "?"
    except Exception:  # noqa: BLE001 - naming the server must never hide the real error
        return "?"


def describe(exc: PyMongoError, what: str, *dbs) -> str:
    """One sentence: which server, which database, doing what, and what went wrong. Several
    `dbs` when the failing call could have gone to either (a timeout names no address)."""
    where = " or ".join(f"the database {db.name} at {server_of(db)}" for db in dbs) \
        or "the server"
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    first = first.split(" (configured timeouts")[0][:300]
    options = [db.client.options for db in dbs]
    seconds = max((o.timeout or 0 for o in options), default=0)
    within = f" within {seconds:g} s" if seconds else ""
    if isinstance(exc, (NetworkTimeout, ExecutionTimeout, WTimeoutError)) or \
            getattr(exc, "timeout", False):
        return (f"{where} did not answer{within} while {what} ({first}): it is stalled or "
                f"overloaded; nothing checkpointed is lost and `run` again resumes")
    if isinstance(exc, ProtocolError) or "Got response id" in first:
        return (f"{where} answered another request than the one sent while {what} ({first}): "
                f"the connection is out of step, usually after the server stalled; restart the "
                f"server and `run` again")
    if isinstance(exc, OperationFailure) and (exc.code in INTERRUPTED_CODES
                                              or "cancel" in first.lower()):
        return (f"{where} cancelled the operation while {what} ({first}): the server was "
                f"stopped, restarted or killed the operation; `run` again resumes")
    if isinstance(exc, AutoReconnect):
        return f"lost the connection to {where} while {what}: {first}"
    return f"{where} refused an operation while {what}: {first}"


@contextlib.contextmanager
def operation(what: str, *dbs):
    """Database errors inside become one sentence naming the server(s) and `what`."""
    try:
        yield
    except PyMongoError as exc:
        raise DatabaseFailure(describe(exc, what, *dbs)) from None


def guarded(iterable, what: str, db):
    """Iterates `iterable` (a cursor-backed generator) under `operation(what, db)`."""
    with operation(what, db):
        yield from iterable
