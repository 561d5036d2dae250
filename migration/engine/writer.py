"""Applying one batch: only what changed since the ledger's record reaches the target.

Order within a batch (what makes a kill at any moment safe): target inserts/replaces, target
deletes, the new ledger document, removal of the ledger documents it supersedes; the caller
then checkpoints. Replaying a batch is harmless: an insert of an existing id becomes a replace,
a delete of a missing id does nothing.
"""
from __future__ import annotations

from collections import defaultdict

from pymongo import DeleteOne, InsertOne, ReplaceOne
from pymongo.errors import BulkWriteError, DuplicateKeyError

from migration.engine.errors import MigrationError
from migration.engine.hashing import sort_key
from migration.engine.ledger import (batch_unchanged, ledger_collection, ledger_document,
                                     other_producer_exists, split_token, target_token)

DUPLICATE_KEY = 11000
FEW = 4  # superseded ledger documents deleted one by one up to this many


def apply_batch(target_db, source, results, old_entries, consumed, carried, excluded, seq,
                producers, counts) -> None:
    """Writes the difference between `results` (this run) and `old_entries` (the ledger)."""
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
        maybe_gone.update(before - produced_now)
    for entry in old_by_key.values():  # source documents that disappeared
        maybe_gone.update(set(entry.targets) - produced_now)
    for collection, ops in upserts.items():
        _bulk_upsert(target_db[collection], ops)
    deletes = _deletions(target_db, maybe_gone, carried, excluded, producers)
    for collection, ops in deletes.items():
        target_db[collection].bulk_write(ops, ordered=False)
        counts["deleted"] += len(ops)
    _record(target_db, source, results, old_entries, consumed, seq)


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


def _bulk_upsert(collection, ops) -> None:
    try:
        collection.bulk_write(ops, ordered=False)
    except BulkWriteError as exc:
        retry = []
        for error in exc.details.get("writeErrors", []):
            op = ops[error["index"]]
            if error.get("code") == DUPLICATE_KEY and isinstance(op, InsertOne):
                # Written by an interrupted run before its ledger was: replace it.
                doc = op._doc
                retry.append(ReplaceOne({"_id": doc["_id"]}, doc, upsert=True))
            else:
                raise MigrationError(_describe_write_error(collection, ops, error)) from None
        if retry:
            try:
                collection.bulk_write(retry, ordered=False)
            except BulkWriteError as again:
                error = again.details["writeErrors"][0]
                raise MigrationError(_describe_write_error(collection, retry, error)) from None


def _describe_write_error(collection, ops, error) -> str:
    op = ops[error["index"]]
    doc = getattr(op, "_doc", None) or getattr(op, "_filter", {})
    doc_id = doc.get("_id") if hasattr(doc, "get") else None
    return (f"writing document {doc_id} into {collection.name} failed: "
            f"{error.get('errmsg', error)} (code {error.get('code')})")


def _record(target_db, source, results, old_entries, consumed, seq) -> None:
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
            ledger.insert_one(doc)
        except DuplicateKeyError:
            ledger.replace_one({"_id": doc["_id"]}, doc)
        keep = doc["_id"]
    stale = [doc_id for doc_id, _ in consumed if doc_id != keep]
    if len(stale) > FEW:
        ledger.delete_many({"_id": {"$in": stale}})
    else:  # FerretDB reads the whole collection for each; an `$in` costs it six times more
        for doc_id in stale:
            ledger.delete_one({"_id": doc_id})
