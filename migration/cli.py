"""python -m migration plan|run|verify|validate|status (the contract other tools call).

Exit codes: 0 done and verified (quarantined documents allowed, reported), 2 bad usage or
configuration, 3 verification failed or the data was refused before any write (source data the
chain would lose, an empty source, a target holding documents this migration did not write, a
damaged `_migrations` record, too many documents quarantined), 1 anything else (another run
holds the target, a server that does not answer in time, ...).
"""
from __future__ import annotations

import argparse
import contextlib
import os
import socket
import sys
import traceback
from dataclasses import dataclass
from typing import Any, Callable

import pymongo
from pymongo import uri_parser
from pymongo.errors import ConfigurationError, InvalidURI, PyMongoError
from rich.console import Console

from migration.cli_checks import check_writable, read_schema
from migration.engine import api
from migration.engine.chain import load_chain
from migration.engine.deadlines import (
    CONNECT_TIMEOUT_MS,
    DEFAULT_TIMEOUT_SECONDS,
    describe,
    mongo_client,
    operation,
)
from migration.engine.errors import ConfigError, MigrationError
from migration.engine.report import ProgressBars, render, write_json
from migration.engine.sources import BATCH_SIZE
from migration.engine.target.guards import MAX_QUARANTINE_RATIO
from migration.engine.target.lease import LEASE_SECONDS
from migration.engine.validation.image_schema import DEFAULT_PATH_IN_IMAGE, schema_from_image
from migration.engine.validation.target_check import validate_target
from migration.engine.validation.validator import Validator

DEFAULT_CHAIN = "migration.meeshy"


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # usage errors are exit 2 with a sentence, as argparse does
        self.print_usage(sys.stderr)
        print(f"migration: error: {message}", file=sys.stderr)
        sys.exit(2)


@dataclass(frozen=True)
class Verb:
    """One verb of this CLI: its function (args, chain, (target database, its nodes), console)
    -> report, and
    which of the shared argument groups it reads; the parser derives from these."""
    run: Callable[..., dict]
    source: bool = False          # --source (and the check that it is not the target)
    schema: bool = False          # --schema / --schema-from-image
    batches: bool = False         # --batch-size
    quarantine: bool = False      # --max-quarantine-ratio
    arguments: tuple = ()         # its own: (flags, options) pairs


VERBS: dict[str, Verb] = {}


def verb(name: str, **declared: Any) -> Callable:
    def register(function: Callable) -> Callable:
        VERBS[name] = Verb(function, **declared)
        return function
    return register


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m migration", description=__doc__.splitlines()[0])
    verbs = parser.add_subparsers(dest="verb", required=True, parser_class=_Parser)
    for name, declared in VERBS.items():
        _arguments(verbs.add_parser(name), declared)
    return parser


def _arguments(sub: argparse.ArgumentParser, declared: Verb) -> None:
    if declared.source:
        sub.add_argument("--source", required=True, help="mongodb://host:port/database")
    if declared.schema:
        sub.add_argument("--schema", help="the application's schema.prisma")
        sub.add_argument("--schema-from-image", metavar="IMAGE",
                         help="read the schema from the application image (Docker CLI)")
        sub.add_argument("--image-schema-path", default=DEFAULT_PATH_IN_IMAGE,
                         help="where the image keeps its schema")
    sub.add_argument("--target", required=True, help="mongodb://host:port/database")
    sub.add_argument("--json", metavar="FILE", help="write the report as JSON")
    sub.add_argument("--chain", default=os.environ.get("MIGRATION_CHAIN", DEFAULT_CHAIN),
                     help=argparse.SUPPRESS)
    sub.add_argument("--decision", action="append", default=[], metavar="NAME=VALUE",
                     help="override one of the chain's decisions (e.g. notifications=migrate)")
    if declared.batches:
        sub.add_argument("--batch-size", type=int, default=BATCH_SIZE, help=argparse.SUPPRESS)
    sub.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_SECONDS,
                     metavar="SECONDS", help="the longest a server may take to answer one "
                     f"call (default {DEFAULT_TIMEOUT_SECONDS})")
    if declared.quarantine:
        sub.add_argument("--max-quarantine-ratio", type=float, default=MAX_QUARANTINE_RATIO,
                         metavar="R", help="fail when a collection has more than this share "
                         f"of its documents quarantined (default {MAX_QUARANTINE_RATIO})")
    for flags, options in declared.arguments:
        sub.add_argument(*flags, **options)


def database_of(uri: str, role: str) -> tuple:
    """(database name, set of (address, port)) named by a URI, or a ConfigError (an unknown
    option too: a typo in a timeout or TLS option must not be silently ignored)."""
    try:
        parsed = uri_parser.parse_uri(uri, warn=False)
    except (InvalidURI, ConfigurationError, ValueError) as exc:
        raise ConfigError(f"--{role} {_redact(uri)} is not a valid MongoDB URI: {exc}") from None
    if not parsed.get("database"):
        raise ConfigError(f"--{role} {_redact(uri)} names no database: write it after the host, "
                          f"e.g. mongodb://host:27017/meeshy")
    return parsed["database"], {_resolve(host, port) for host, port in parsed["nodelist"]}


def _resolve(host, port):
    try:
        return socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)[0][4][:2]
    except OSError:
        return (host.lower(), port)


def _redact(uri: str) -> str:
    if "@" in uri and "://" in uri:
        scheme, rest = uri.split("://", 1)
        return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
    return uri


def connect(uri: str, role: str, timeout: float = DEFAULT_TIMEOUT_SECONDS):
    client = mongo_client(uri, timeout, appname=f"meeshy-migration-{role}")
    try:
        with pymongo.timeout(CONNECT_TIMEOUT_MS / 1000):  # timeoutMS would wait the full --timeout
            client.admin.command("ping")
    except PyMongoError as exc:
        client.close()
        reason = str(exc).splitlines()[0].split(" (configured timeouts")[0].split(", Timeout")[0]
        raise MigrationError(f"cannot reach the {role} database at {_redact(uri)}: "
                             f"{reason[:200]}") from None
    return client


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    # A log file gets the whole table; a terminal gets its own width.
    console = Console(file=sys.stdout, width=None if sys.stdout.isatty() else 160)
    try:
        report = _execute(args, console)
    except MigrationError as exc:
        return _failed(args, str(exc), exc.exit_code)
    except PyMongoError as exc:
        return _failed(args, describe(exc, f"running {args.verb}"), 1)
    except KeyboardInterrupt:
        return _failed(args, "interrupted; `run` again resumes where it stopped", 1)
    except Exception as exc:  # noqa: BLE001 - a bug: say so, with the traceback to report it
        traceback.print_exc()
        return _failed(args, f"internal error: {type(exc).__name__}: {exc}", 1)
    if args.json:
        write_json(report, args.json)
    render(report, console)
    if report.get("ok"):
        return 0
    return 3


def _failed(args, message: str, code: int) -> int:
    """Says what went wrong in one sentence; a --json report still gets written."""
    print(f"migration {args.verb}: {message}", file=sys.stderr)
    if getattr(args, "json", None):
        try:
            write_json({"command": args.verb, "ok": False, "error": message, "exit_code": code},
                       args.json)
        except OSError as exc:
            print(f"migration {args.verb}: cannot write {args.json}: {exc.strerror}",
                  file=sys.stderr)
    return code


def decisions_of(items) -> dict:
    """{name: value} of the repeated --decision NAME=VALUE options."""
    chosen = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise ConfigError(f"--decision {item!r} is not NAME=VALUE (e.g. notifications=migrate)")
        chosen[name.strip()] = value.strip()
    return chosen


def _execute(args, console) -> dict:
    if args.json:
        check_writable(args.json)  # before any work: a finished run must not fail to report
    if not 0 < args.timeout <= 86_400:
        raise ConfigError("--timeout must be a number of seconds between 0 and 86400")
    target = database_of(args.target, "target")
    chain = load_chain(args.chain, decisions_of(args.decision))
    return VERBS[args.verb].run(args, chain, target, console)


def _on_both(args, chain, target_db: tuple, console, work: Callable) -> dict:
    """Checks --source against --target, then runs `work(source, target, validator, bars)` with
    both databases connected; the report names both, the schema, the chain and its decisions."""
    source_name, source_nodes = database_of(args.source, "source")
    target_name, target_nodes = target_db
    if source_name == target_name and source_nodes & target_nodes:
        raise ConfigError(f"source and target are the same database ({source_name} on "
                          f"{_redact(args.source)}): the source is never written to, migrate "
                          f"into another database")
    schema = _schema(args, chain)
    validator = Validator(schema)
    if hasattr(args, "to"):
        chain.up_to(args.to)  # an unknown step is a usage error, before any connection
    if getattr(args, "batch_size", 1) < 1:
        raise ConfigError("--batch-size must be a positive number")
    if not 0 <= getattr(args, "max_quarantine_ratio", 0) <= 1:
        raise ConfigError("--max-quarantine-ratio must be between 0 and 1")
    with contextlib.closing(connect(args.source, "source", args.timeout)) as source_client, \
            contextlib.closing(connect(args.target, "target", args.timeout)) as target_client:
        source, target = source_client[source_name], target_client[target_name]
        bars = ProgressBars(console) if sys.stdout.isatty() else None
        with bars if bars is not None else contextlib.nullcontext(), \
                operation(f"running {args.verb}", source, target):
            report = work(source, target, validator, bars)
    report.update(source=_redact(args.source), target=_redact(args.target),
                  schema=str(schema.path), chain=args.chain, decisions=dict(chain.decisions))
    return report


@verb("plan", source=True, schema=True, batches=True)
def plan(args, chain, target: tuple, console) -> dict:
    return _on_both(args, chain, target, console, lambda source, target, validator, bars:
                    api.plan(source, chain, validator, target, args.batch_size, bars))


@verb("run", source=True, schema=True, batches=True, quarantine=True, arguments=(
    (("--to",), {"metavar": "STEP", "help": "apply the chain up to this step"}),
    (("--allow-empty-source",), {"action": "store_true",
                                 "help": "migrate a source database that is empty or missing"}),
    (("--live-source",), {"action": "store_true",
                          "help": "pre-copy of a source still taking writes: verify what the "
                                  "pass read, report the source's growth, record the run as "
                                  "provisional (a run on the frozen source must follow)"}),
    (("--lease-seconds",), {"type": float, "default": LEASE_SECONDS, "help": argparse.SUPPRESS})))
def run(args, chain, target: tuple, console) -> dict:
    return _on_both(args, chain, target, console, lambda source, target, validator, bars:
                    api.run(source, target, chain, validator, args.to, args.batch_size, bars,
                            args.allow_empty_source, args.max_quarantine_ratio,
                            args.lease_seconds, live_source=args.live_source))


@verb("verify", source=True, schema=True, quarantine=True)
def verify(args, chain, target: tuple, console) -> dict:
    return _on_both(args, chain, target, console, lambda source, target, validator, bars:
                    api.verify(source, target, chain, validator, args.max_quarantine_ratio))


@verb("validate", schema=True)
def validate(args, chain, target: tuple, console) -> dict:
    target_name = target[0]
    validator = Validator(_schema(args, chain))
    with contextlib.closing(connect(args.target, "target", args.timeout)) as target, \
            operation("validating the target against the schema", target[target_name]):
        report = validate_target(target[target_name], validator)
    report.update(target=_redact(args.target))
    return report


@verb("status")
def status(args, chain, target: tuple, console) -> dict:
    target_name = target[0]
    with contextlib.closing(connect(args.target, "target", args.timeout)) as target, \
            operation("reading the target's _migrations (status)", target[target_name]):
        return api.status(target[target_name], chain)


def _schema(args, chain):
    """The schema of --schema, --schema-from-image, else the chain's own copy."""
    if args.schema and args.schema_from_image:
        raise ConfigError("--schema and --schema-from-image name two schemas: give one")
    if args.schema_from_image:
        return schema_from_image(args.schema_from_image, args.image_schema_path)
    schema_path = args.schema or chain.schema_path
    if schema_path is None:
        raise ConfigError(f"{args.chain} declares no SCHEMA_PATH and no --schema was given")
    return read_schema(schema_path)
