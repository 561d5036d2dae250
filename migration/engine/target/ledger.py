"""The ledger: what each source document produced last time, kept in the target.

One ledger document covers one batch of source documents (ids in `_id` order) and stores for
each of them an 8-byte digest of its outcomes and the target documents it wrote. A run reads
the ledger in step with the source, so it knows without reading the target which documents are
new, changed, unchanged or gone; an unchanged batch costs no write at all. Ledger documents get
a fresh `_id` per write (they carry a sequence number) so a run killed between writing the new
one and deleting the old ones leaves overlaps the reader resolves (highest `seq` wins).

FerretDB refuses nested arrays, so written targets are flat strings "Collection\\x1fid-token".
The per-entry ids and targets travel as one BSON blob (`entries`): the server stores a blob
far faster than a thousand-element array (FerretDB converts every element). Only `targets`,
which the server must search, stays an array.
"""
from __future__ import annotations

from dataclasses import dataclass

import bson
from bson import Binary, ObjectId

from migration.engine.hashing import bson_bytes, derived_id, sort_key

LEDGER = "_migrations_ledger"   # one collection per driving source: LEDGER + "." + source


def ledger_collection(target_db, source: str):
    """The ledger of one source collection (separate, so reading it scans nothing else)."""
    return target_db[f"{LEDGER}.{source}"]
_SEP = "\x1f"
_JOIN = "\x1e"  # between the targets of one entry (a list of lists would be a nested array)


def id_token(value) -> str:
    if isinstance(value, ObjectId):
        return "o" + str(value)
    if isinstance(value, str):
        return "s" + value
    if isinstance(value, int) and not isinstance(value, bool):
        return "i" + str(value)
    return "b" + bson_bytes({"v": value}).hex()


def token_id(token: str):
    """The id a target token names (the inverse of id_token)."""
    kind, text = token[0], token[1:]
    if kind == "o":
        return ObjectId(text)
    if kind == "s":
        return text
    if kind == "i":
        return int(text)
    return bson.decode(bytes.fromhex(text))["v"]


def target_token(collection: str, value) -> str:
    return collection + _SEP + id_token(value)


def split_token(token: str):
    """(collection, id) of a target token."""
    collection, rest = token.split(_SEP, 1)
    return collection, token_id(rest)


@dataclass
class Entry:
    id: object
    digest: bytes
    targets: tuple          # target tokens, in the order written


class LedgerReader:
    """Yields the previous run's entries of one source collection, batch by batch."""

    def __init__(self, target_db, source: str, after=None, empty: bool = False):
        self.coll = ledger_collection(target_db, source)
        self.after_key = sort_key(after) if after is not None else None
        # A first run into an empty target has no ledger: skip the query.
        self._cursor = iter(()) if empty else \
            self.coll.find({}, sort=[("lo", 1), ("seq", 1)])
        self._next = next(self._cursor, None)
        self._pending: dict = {}       # sort key -> (seq, Entry)
        self._open: dict = {}          # ledger doc _id -> (hi sort key, lo, seq, count)

    def take_upto(self, last_id=None, until_end: bool = False):
        """Entries with id <= last_id (all remaining ones when until_end), sorted by id;
        plus the ledger documents now fully consumed and the ones that contributed."""
        limit = None if until_end else sort_key(last_id)
        while self._next is not None and (limit is None or sort_key(self._next["lo"]) <= limit):
            self._load(self._next)
            self._next = next(self._cursor, None)
        keys = sorted(k for k in self._pending if limit is None or k <= limit)
        entries = [self._pending.pop(k)[1] for k in keys]
        consumed = [(doc_id, info) for doc_id, info in self._open.items()
                    if limit is None or info[0] <= limit]
        for doc_id, _ in consumed:
            del self._open[doc_id]
        return entries, consumed

    def open_doc_ids(self) -> list:
        return list(self._open)

    def carried(self):
        """Entries loaded but not yet consumed (from a partially consumed ledger document)."""
        return [entry for _, entry in self._pending.values()]

    def _load(self, doc) -> None:
        if self.after_key is not None and sort_key(doc["hi"]) <= self.after_key:
            return  # written by the checkpointed part of the run being resumed: current
        seq, digests = doc["seq"], bytes(doc["d"])
        ids, written = _entries(doc)
        for n, (source_id, targets) in enumerate(zip(ids, written)):
            key = sort_key(source_id)
            if self.after_key is not None and key <= self.after_key:
                continue  # already handled by the interrupted run this one resumes
            held = self._pending.get(key)
            if held is None or held[0] <= seq:
                self._pending[key] = (seq, Entry(source_id, digests[8 * n:8 * n + 8],
                                                 tuple(targets.split(_JOIN)) if targets else ()))
        self._open[doc["_id"]] = (sort_key(doc["hi"]), doc["lo"], seq, len(ids))

    def close(self):
        if hasattr(self._cursor, "close"):
            self._cursor.close()


def ledger_document(source: str, seq: int, results) -> dict:
    """The ledger document recording one batch of processed source documents.

    `targets` (what the server searches when a target document may have lost its last
    producer) leaves out what an entry wrote under its own ObjectId, most writes of a 1:1 rule:
    it costs the server most of the ledger's write time. `own` says it did, and
    `other_producer_exists` then looks such a write up in the entry itself."""
    own = all(isinstance(r.source_id, ObjectId) for r in results)
    shared = {target_token(c, i) for r in results for c, i, _ in r.writes
              if not (own and isinstance(i, ObjectId) and i == r.source_id)}
    return {
        "_id": derived_id("ledger", source, seq, results[0].source_id),
        "source": source,
        "lo": results[0].source_id,
        "hi": results[-1].source_id,
        "seq": seq,
        "entries": Binary(bson.encode({
            "ids": [r.source_id for r in results],
            "w": [_JOIN.join(target_token(c, i) for c, i, _ in r.writes) for r in results]})),
        "d": Binary(b"".join(r.digest for r in results)),
        "own": own,
        "targets": sorted(shared),
    }


def _entries(doc) -> tuple:
    """(source ids, joined targets) of a ledger document; plain arrays in ledgers written
    before the blob, which a later run still reads."""
    if "entries" in doc:
        packed = bson.decode(bytes(doc["entries"]))
        return packed["ids"], packed["w"]
    return doc["ids"], doc["w"]


def recorded_targets(doc) -> set:
    """Every target token a ledger document records, the own-id writes included."""
    tokens = set(doc.get("targets", ()))
    if doc.get("own"):
        for targets in _entries(doc)[1]:
            tokens.update(targets.split(_JOIN) if targets else ())
    return tokens


def batch_unchanged(results, old_entries, consumed) -> bool:
    """True when the batch's ledger document would be identical to the one already stored."""
    if len(consumed) != 1 or len(old_entries) != len(results):
        return False
    _, (hi_key, lo, _, count) = consumed[0]
    if count != len(results) or lo != results[0].source_id \
            or hi_key != sort_key(results[-1].source_id):
        return False
    for result, entry in zip(results, old_entries):
        if result.source_id != entry.id or result.digest != entry.digest:
            return False
    return True


def other_producer_exists(target_db, token: str, sources, excluded_ids) -> bool:
    """Whether a ledger document not being replaced still records writing `token`."""
    exclude = {"_id": {"$nin": list(excluded_ids)}} if excluded_ids else {}
    _, doc_id = split_token(token)
    for source in sorted(sources):
        ledger = ledger_collection(target_db, source)
        if ledger.find_one({"targets": token, **exclude}, {"_id": 1}) is not None:
            return True
        if isinstance(doc_id, ObjectId) and _written_under_own_id(ledger, token, doc_id,
                                                                  exclude):
            return True
    return False


def _written_under_own_id(ledger, token: str, doc_id, exclude) -> bool:
    """Whether the entry of source document `doc_id` wrote `token` (left out of `targets`)."""
    query = {"own": True, "lo": {"$lte": doc_id}, "hi": {"$gte": doc_id}, **exclude}
    for doc in ledger.find(query, {"entries": 1, "ids": 1, "w": 1}):
        for source_id, targets in zip(*_entries(doc)):
            if source_id == doc_id and token in targets.split(_JOIN):
                return True
    return False
