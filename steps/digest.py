"""Per-collection counts and content hashes, the same whether documents come from an archive or
a live database, computed the way the migration's verification does.

The migration engine defines a collection's content hash as the sha256 of the raw BSON of
every document in `_id` order (migration/engine/README.md, "Ids and hashing"), ordering ids
as the server sorts them (`migration.engine.hashing.sort_key`). A backup is verified by
comparing that hash over the archive's documents with the hash over the restored database,
and a rollback compares the live database with the backup recorded for it.

Archives are dumped in natural order, not `_id` order: documents are spilled to a temporary
file and only (sort key, offset, length) per document stays in memory.
"""
from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from typing import Iterable

from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument

from migration.engine.hashing import sort_key

ALGORITHM = "sha256 of raw BSON in _id order (migration content hash)"
_RAW = CodecOptions(document_class=RawBSONDocument)


@dataclass(frozen=True)
class CollectionDigest:
    count: int
    hash: str

    def as_dict(self) -> dict:
        return {"count": self.count, "hash": self.hash}


class DigestBuilder:
    """Accepts documents in any order; result() hashes them in `_id` order."""

    def __init__(self) -> None:
        self._spill = tempfile.TemporaryFile()
        self._index: list[tuple] = []
        self._offset = 0

    def add(self, raw: bytes) -> None:
        key = sort_key(RawBSONDocument(raw)["_id"])
        self._spill.write(raw)
        self._index.append((key, self._offset, len(raw)))
        self._offset += len(raw)

    def result(self) -> CollectionDigest:
        self._index.sort(key=lambda item: item[0])
        total = hashlib.sha256()
        for _, offset, length in self._index:
            self._spill.seek(offset)
            total.update(self._spill.read(length))
        self._spill.close()
        return CollectionDigest(len(self._index), total.hexdigest())


def digest_ordered(raw_documents: Iterable[bytes]) -> CollectionDigest:
    """Documents already in `_id` order (a server cursor sorted on `_id`)."""
    total, count = hashlib.sha256(), 0
    for raw in raw_documents:
        total.update(raw)
        count += 1
    return CollectionDigest(count, total.hexdigest())


def collection_digest(db, name: str) -> CollectionDigest:
    """Read in natural order and put in `_id` order here: FerretDB sorts a whole collection
    in memory before answering a sorted find (about a quarter of the time at scale 1); an `_id`
    this side cannot order like the server falls back to the server's sort."""
    collection = db.get_collection(name).with_options(codec_options=_RAW)
    builder = DigestBuilder()
    try:
        for doc in collection.find({}, batch_size=1000):
            builder.add(doc.raw)
    except TypeError:
        return digest_ordered(doc.raw for doc in collection.find({}, sort=[("_id", 1)]))
    return builder.result()


def database_digests(client, database: str) -> dict[str, dict]:
    """{collection: {count, hash}} of a live database (read-only; `system.*` skipped)."""
    db = client.get_database(database)
    return {name: collection_digest(db, name).as_dict()
            for name in sorted(db.list_collection_names()) if not name.startswith("system.")}


def compare(expected: dict[str, dict], actual: dict[str, dict]) -> list[str]:
    """Differences between two {collection: {count, hash}} maps, one line each; empty if equal.

    A collection empty on one side and absent on the other counts as equal: mongodump keeps
    empty collections but a server may not list them after a restore.
    """
    problems = []
    for name in sorted(set(expected) | set(actual)):
        want = expected.get(name, {"count": 0, "hash": None})
        have = actual.get(name, {"count": 0, "hash": None})
        if want["count"] == 0 and have["count"] == 0:
            continue
        if want["count"] != have["count"]:
            problems.append(f"{name}: {have['count']} documents, expected {want['count']}")
        elif want["hash"] != have["hash"]:
            problems.append(f"{name}: same count ({want['count']}) but content hash differs")
    return problems
