"""Checks of a database, run where the database is reachable (locally for an external server,
in the tools container on the stack's network in Docker mode):

    python -m steps.data_check digests  --database DB
    python -m steps.data_check baseline --database DB --out FILE.json.gz
    python -m steps.data_check changes  --database DB (--baseline FILE.json.gz | --archive FILE)
    python -m steps.data_check indexes  --database DB --archive FILE     (the only one that writes)

The server URI comes from the MEESHY_DATA_URI environment variable (no credentials on command
lines). `digests` prints {collection: {count, hash}} (steps.digest, the migration's content
hash). `baseline` records every document's id and hash; `changes` compares the database with a
baseline or a backup archive and prints, per collection, how many documents were inserted,
updated and deleted since: the writes a rollback would abandon, counted before anything is
restored. `indexes` creates the archive's index definitions in DB after a restore made with
--noIndexRestore: mongorestore adds an `ns` option to every index it restores, which FerretDB
refuses ("Index option "ns" is unknown"); creating them here gives the same indexes on MongoDB.
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import sys
from collections import defaultdict
from pathlib import Path

import bson
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument

from migration.engine.deadlines import DEFAULT_TIMEOUT_SECONDS, mongo_client
from steps import archive
from steps.digest import database_digests
from steps.protocol import print_result

URI_ENV = "MEESHY_DATA_URI"
_RAW = CodecOptions(document_class=RawBSONDocument)


def _id_key(raw: bytes) -> str:
    return id_key(RawBSONDocument(raw)["_id"])


def id_key(identifier) -> str:
    """How baselines and archives name a document: a digest of its `_id` (any BSON type)."""
    return hashlib.sha256(bson.encode({"_id": identifier})).hexdigest()[:24]


def _doc_hash(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()[:24]


def live_document_hashes(client, database: str) -> dict[str, dict[str, str]]:
    db = client.get_database(database)
    result: dict[str, dict[str, str]] = {}
    for name in sorted(db.list_collection_names()):
        if name.startswith("system."):
            continue
        collection = db.get_collection(name).with_options(codec_options=_RAW)
        result[name] = {_id_key(doc.raw): _doc_hash(doc.raw) for doc in collection.find({})}
    return result


def archive_document_hashes(path: Path, database: str) -> dict[str, dict[str, str]]:
    result: dict[str, dict[str, str]] = defaultdict(dict)
    for db, collection, raw in archive.iter_archive(path):
        if db != database:
            continue
        if raw is None:
            result.setdefault(collection, {})
        else:
            result[collection][_id_key(raw)] = _doc_hash(raw)
    return dict(result)


def changes(baseline: dict[str, dict[str, str]], live: dict[str, dict[str, str]]) -> dict:
    per_collection = {}
    totals = {"inserted": 0, "updated": 0, "deleted": 0}
    for name in sorted(set(baseline) | set(live)):
        before, now = baseline.get(name, {}), live.get(name, {})
        counted = {
            "inserted": sum(1 for key in now if key not in before),
            "updated": sum(1 for key, value in now.items() if key in before and before[key] != value),
            "deleted": sum(1 for key in before if key not in now),
        }
        if any(counted.values()):
            per_collection[name] = counted
            for key, value in counted.items():
                totals[key] += value
    return {"collections": per_collection, **totals,
            "changed": totals["inserted"] + totals["updated"] + totals["deleted"]}


def restore_indexes(client, database: str, archive_path: Path) -> dict:
    db = client.get_database(database)
    created = {}
    for namespace in archive.read_prelude(archive_path):
        names = []
        for index in namespace.indexes:
            if index.get("name") == "_id_":
                continue
            options = {k: v for k, v in index.items() if k not in ("v", "key", "ns")}
            db.get_collection(namespace.collection).create_index(list(index["key"].items()), **options)
            names.append(index["name"])
        if names:
            created[namespace.collection] = names
    return {"database": database, "indexes": created,
            "count": sum(len(v) for v in created.values())}


def drop_if_archived(client, database: str, archive_path: Path) -> dict:
    """Drops `database` only when every document it holds is in the archive, byte for byte:
    what a rollback abandoned is emptied only once its archive is proven to hold it."""
    live = live_document_hashes(client, database)
    kept = archive_document_hashes(archive_path, database)
    missing = {name: sum(1 for key, value in docs.items() if kept.get(name, {}).get(key) != value)
               for name, docs in live.items()}
    missing = {name: n for name, n in missing.items() if n}
    if missing:
        raise SystemExit(f"{database} holds {sum(missing.values())} document(s) not in "
                         f"{archive_path} ({missing}): not dropped")
    client.drop_database(database)
    return {"dropped": database, "documents": sum(len(v) for v in live.values()),
            "archive": str(archive_path)}


def write_baseline(path: Path, hashes: dict) -> None:
    """Written whole or not at all: a switch killed while it is read resumes by reading it again
    when the file is missing (ops/switch/resume.py), never from half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with gzip.open(partial, "wt") as handle:
        json.dump(hashes, handle, sort_keys=True)
    os.replace(partial, path)


def read_baseline(path: Path) -> dict:
    with gzip.open(path, "rt") as handle:
        return json.load(handle)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m steps.data_check", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("verb", choices=("digests", "baseline", "changes", "indexes", "drop"))
    parser.add_argument("--database", required=True)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--baseline", type=Path)
    parser.add_argument("--archive", type=Path)
    parser.add_argument("--timeout", type=float, default=10.0,
                        help="connection and server selection, seconds")
    parser.add_argument("--operation-timeout", type=float, default=DEFAULT_TIMEOUT_SECONDS,
                        help="the longest any one database operation may take, seconds")
    args = parser.parse_args(argv)
    uri = os.environ.get(URI_ENV)
    if not uri:
        parser.error(f"{URI_ENV} is not set (the server URI, e.g. mongodb://127.0.0.1:27017)")
    if args.verb == "baseline" and not args.out:
        parser.error("baseline needs --out FILE")
    if args.verb in ("indexes", "drop") and not args.archive:
        parser.error(f"{args.verb} needs --archive FILE")
    if args.verb == "changes" and (args.baseline is None) == (args.archive is None):
        parser.error("changes needs exactly one of --baseline or --archive")
    client = mongo_client(uri, args.operation_timeout, connect_seconds=args.timeout)
    try:
        if args.verb == "digests":
            result = database_digests(client, args.database)
        elif args.verb == "drop":
            result = drop_if_archived(client, args.database, args.archive)
        elif args.verb == "indexes":
            result = restore_indexes(client, args.database, args.archive)
        elif args.verb == "baseline":
            hashes = live_document_hashes(client, args.database)
            write_baseline(args.out, hashes)
            result = {"baseline": str(args.out),
                      "documents": sum(len(v) for v in hashes.values())}
        else:
            before = (read_baseline(args.baseline) if args.baseline
                      else archive_document_hashes(args.archive, args.database))
            result = changes(before, live_document_hashes(client, args.database))
    finally:
        client.close()
    print_result(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
