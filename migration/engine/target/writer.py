"""Applying one batch: only what changed since the ledger's record reaches the target.

Order within a batch (what makes a kill at any moment safe): target inserts/replaces, target
deletes, the new ledger document, removal of the ledger documents it supersedes; the caller
then checkpoints. Replaying a batch is harmless: an insert of an existing id becomes a replace,
a delete of a missing id does nothing.

Every write command goes out inside `window()` (the lease's, lease.py): claimed first, bounded
in time after, so a run taken over in the middle of a batch sends none of the rest.
"""
from __future__ import annotations

import contextlib
from collections import defaultdict

from pymongo import DeleteOne, InsertOne, ReplaceOne
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure

from migration.engine.errors import MigrationError
from migration.engine.hashing import sort_key
from migration.engine.target.ledger import (
    batch_unchanged,
    ledger_collection,
    ledger_document,
    other_producer_exists,
    split_token,
    target_token,
)

DUPLICATE_KEY = 11000
REPLACE_CHUNK = 50
FEW = 4  # superseded ledger documents deleted one by one up to this many


def apply_batch(target_db, source, results, old_entries, consumed, carried, excluded, seq,
                producers, counts, window=contextlib.nullcontext, written=None) -> None:
    """Writes the difference between `results` (this run) and `old_entries` (the ledger), each
    command inside `window()`; `written` (a written.WrittenIds) gets the id of every document
    inserted or replaced."""
    old_by_key = {sort_key(e.id): e for e in old_entries}
    produced_now = {target_token(c, i) for r in results for c, i, _ in r.writes}
    upserts: dict = defaultdict(list)
    maybe_gone: set = set()
    for result in results:
        entry = old_by_key.pop(sort_key(result.source_id), None)
        if entry is not None and entry.digest == result.digest:
            counts["unchanged"] += 1
            continue
        before = set(entry.targets) if entry is not None else set()
        for collection, doc_id, raw in result.writes:
            if target_token(collection, doc_id) in before:
                upserts[collection].append(ReplaceOne({"_id": doc_id}, raw, upsert=True))
                counts["replaced"] += 1
            else:
                upserts[collection].append(InsertOne(raw))
                counts["inserted"] += 1
            if written is not None:
                written.add(collection, doc_id)
        maybe_gone.update(before - produced_now)
    for entry in old_by_key.values():  # source documents that disappeared
        maybe_gone.update(set(entry.targets) - produced_now)
    for collection, ops in upserts.items():
        _bulk_upsert(target_db[collection], ops, window)
    deletes = _deletions(target_db, maybe_gone, carried, excluded, producers)
    for collection, ops in deletes.items():
        with window():
            target_db[collection].bulk_write(ops, ordered=False)
        counts["deleted"] += len(ops)
    _record(target_db, source, results, old_entries, consumed, seq, window)


def _deletions(target_db, tokens, carried, excluded, producers) -> dict:
    """Target documents no longer produced by anyone (a shared one may have other sources).

    `carried`: targets of ledger entries loaded but not yet compared (still produced, maybe);
    `excluded`: ledger documents being replaced, whose records no longer count."""
    if not tokens:
        return {}
    deletes: dict = defaultdict(list)
    for token in sorted(tokens):
        if token in carried:
            continue
        collection, doc_id = split_token(token)
        if other_producer_exists(target_db, token, producers.get(collection, ()), excluded):
            continue
        deletes[collection].append(DeleteOne({"_id": doc_id}))
    return deletes


def _bulk_upsert(collection, ops, window=contextlib.nullcontext) -> None:
    """Inserts in one command; replacements of existing documents in commands of at most
    REPLACE_CHUNK (FerretDB 1.24 never answers one replacing 100 or more; MongoDB does not
    mind either way)."""
    inserts = [op for op in ops if isinstance(op, InsertOne)]
    replaces = [op for op in ops if not isinstance(op, InsertOne)]
    try:
        if inserts:
            with window():
                collection.bulk_write(inserts, ordered=False)
    except BulkWriteError as exc:
        for error in exc.details.get("writeErrors", []):
            op = inserts[error["index"]]
            if error.get("code") != DUPLICATE_KEY or not _id_exists(collection, op._doc):
                raise MigrationError(_describe_write_error(collection, inserts, error)) from None
            # Written by an interrupted run before its ledger was: replace it.
            replaces.append(ReplaceOne({"_id": op._doc["_id"]}, op._doc, upsert=True))
    for start in range(0, len(replaces), REPLACE_CHUNK):
        chunk = replaces[start:start + REPLACE_CHUNK]
        try:
            with window():
                collection.bulk_write(chunk, ordered=False)
        except BulkWriteError as again:
            error = again.details["writeErrors"][0]
            raise MigrationError(_describe_write_error(collection, chunk, error)) from None
        except OperationFailure as exc:  # FerretDB: a unique clash on update is no write error
            if "unique constraint" not in str(exc).lower():
                raise
            raise MigrationError(_describe_unique_failure(collection, chunk)) from None


def _id_exists(collection, doc) -> bool:
    """Whether a duplicate-key error is about `_id` (FerretDB does not name the index):
    a find by `_id` is pushed down, so this costs one lookup per clash."""
    return collection.find_one({"_id": doc["_id"]}, {"_id": 1}) is not None


def _describe_write_error(collection, ops, error) -> str:
    op = ops[error["index"]]
    doc = getattr(op, "_doc", None) or getattr(op, "_filter", {})
    doc_id = doc.get("_id") if hasattr(doc, "get") else None
    text = (f"writing document {doc_id} into {collection.name} failed: "
            f"{error.get('errmsg', error)} (code {error.get('code')})")
    if error.get("code") == DUPLICATE_KEY and hasattr(doc, "get"):
        text += unique_clash(collection, doc)
    return text


def _describe_unique_failure(collection, ops) -> str:
    for op in ops:
        clash = unique_clash(collection, op._doc)
        if clash:
            return f"writing document {op._doc.get('_id')} into {collection.name} failed{clash}"
    return f"writing into {collection.name} failed: a unique index refused one of {len(ops)} documents"


def unique_clash(collection, doc) -> str:
    """Which unique index and values `doc` collides on, and the document holding them."""
    for name, info in collection.index_information().items():
        if not info.get("unique") or name == "_id_":
            continue
        values = {key: doc.get(key) for key, _ in info["key"]}
        holder = collection.find_one({**values, "_id": {"$ne": doc.get("_id")}}, {"_id": 1})
        if holder is not None:
            shown = ", ".join(f"{key}={value!r}" for key, value in values.items())
            return f": unique index {name} already holds {shown} in document {holder['_id']}"
    return ""


def _record(target_db, source, results, old_entries, consumed, seq,
            window=contextlib.nullcontext) -> None:
    ledger = ledger_collection(target_db, source)
    if results and batch_unchanged(results, old_entries, consumed):
        return
    keep = None
    if results:
        doc = ledger_document(source, seq, results)
        # A ledger document's _id is new (it carries seq) unless an interrupted attempt at
        # this very batch wrote it: insert, and replace only then. An upsert of a missing _id
        # reads the whole collection on FerretDB, which made the ledger's cost grow with its
        # size (x10: 25 ms per batch at the start, 180 ms at the end).
        try:
            with window():
                ledger.insert_one(doc)
        except DuplicateKeyError:
            with window():
                ledger.replace_one({"_id": doc["_id"]}, doc)
        keep = doc["_id"]
    stale = [doc_id for doc_id, _ in consumed if doc_id != keep]
    if len(stale) > FEW:
        with window():
            ledger.delete_many({"_id": {"$in": stale}})
    else:  # FerretDB reads the whole collection for each; an `$in` costs it six times more
        for doc_id in stale:
            with window():
                ledger.delete_one({"_id": doc_id})
