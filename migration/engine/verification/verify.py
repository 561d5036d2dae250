"""`verify`: the target reconciles with the source, references and uniques hold, hashes.

Reading is the cost, so each target collection is read once (scan.py) for its hash and
its side of every reference, and source counts come from the collections' metadata: an exact
count is taken only to confirm a disagreement before it is reported. Every check streams, so
it costs no more memory at x10 than x1.
"""
from __future__ import annotations

import heapq
import itertools

from pymongo.errors import OperationFailure

from migration.engine.hashing import sort_key
from migration.engine.model import CollectionRule
from migration.engine.process import QUARANTINE
from migration.engine.runner import written_collections
from migration.engine.target import checkpoint
from migration.engine.target.indexes import index_counts, indexed_collections, missing_indexes
from migration.engine.target.ledger import ledger_collection, recorded_targets, split_token
from migration.engine.verification.live_source import check_sources_live
from migration.engine.verification.scan import EXAMPLES, scan_all, scan_collection

SET_LIMIT = 20_000  # referenced documents held as a set of keys (a few MB at most)
PARALLEL_READS = 2  # more only adds contention on a 2-core machine running FerretDB


def content_hash(collection) -> dict:
    """A digest of every document's stored bytes, and the document count."""
    return scan_collection(collection, keysets={}, checks=[])


def metadata_count(collection) -> int:
    """The document count the server keeps for a collection, without reading it (on FerretDB
    count_documents reads every document); an exact count where the server keeps none."""
    try:
        stats = list(collection.aggregate([{"$collStats": {"count": {}}}]))
        return sum(int(s["count"]) for s in stats)
    except (OperationFailure, KeyError):
        return collection.count_documents({})


def verify(source_db, target_db, chain, schema, steps=None, live_source=False) -> dict:
    """`live_source`: the run was a pre-copy of a source still taking writes (live_source.py):
    the source's growth and broken references are reported in `provisional`, not problems."""
    run = checkpoint.load_run(target_db)
    problems: list = []
    if run is None:
        return {"ok": False, "problems": ["the target has no migration run recorded "
                                          "(_migrations is empty): run `migration run` first"],
                "hashes": {}}
    if steps is None:
        steps = chain.up_to(run.get("to"))
    rules = [r for s in steps for r in s.rules]
    progress = {p["source"]: p for p in checkpoint.all_progress(target_db)}
    collections = written_collections(steps)
    references = [ref for step in steps for ref in step.references
                  if ref.collection in collections and ref.target in collections]
    changes = None
    if live_source:
        expected, changes = check_sources_live(source_db, rules, progress, problems,
                                               metadata_count)
    else:
        expected = _check_sources(source_db, rules, progress, problems)
    hashes, broken, cyclic = scan_all(target_db, collections + [QUARANTINE], references,
                                      sizes=expected, workers=PARALLEL_READS)
    for ref in cyclic:  # a reference the single pass could not order: its own reads
        broken.extend(check_reference(target_db, ref))
    provisional = broken if live_source else []
    problems.extend([] if live_source else broken)
    # Uniques hold when their unique index exists: the server enforces it on every write.
    indexed = indexed_collections(schema, collections, written_collections(chain.steps))
    missing = missing_indexes(target_db, schema, indexed)
    problems.extend(missing)
    _check_target_counts(hashes, expected, _shared_documents(target_db, rules), problems)
    result = {"ok": not problems, "problems": problems, "hashes": hashes,
              "indexes": index_counts(schema, indexed, missing)}
    if live_source:
        result.update(provisional=provisional, source_changes=changes)
    return result


def _check_sources(source_db, rules, progress, problems) -> dict:
    expected = {QUARANTINE: 0}
    for rule in rules:
        counts = (progress.get(rule.source) or {}).get("counts")
        if counts is None or not progress[rule.source].get("done"):
            problems.append(f"{rule.source}: the last run did not finish this collection")
            continue
        live = metadata_count(source_db[rule.source])
        if live != counts["documents"]:  # confirm with an exact count before reporting
            live = source_db[rule.source].count_documents({})
        accounted = sum(counts[k] for k in ("written", "merged", "quarantined", "dropped"))
        if live != counts["documents"] or live != accounted:
            problems.append(
                f"{rule.source}: the source holds {live} documents, the run accounted for "
                f"{accounted} (written {counts['written']} + merged {counts['merged']} + "
                f"quarantined {counts['quarantined']} + dropped {counts['dropped']})")
        if isinstance(rule, CollectionRule):
            expected[rule.target] = expected.get(rule.target, 0) + counts["primary_writes"]
            expected[QUARANTINE] += counts["quarantined"]
    return expected


def _shared_documents(target_db, rules) -> dict:
    """Per collection, the documents written by rules for which it is not the target."""
    shared: dict = {}
    for rule in rules:
        if not isinstance(rule, CollectionRule) or not rule.also_writes:
            continue
        for doc in ledger_collection(target_db, rule.source).find({}):
            for token in recorded_targets(doc):
                collection, _ = split_token(token)
                if collection not in (rule.target, QUARANTINE):
                    shared.setdefault(collection, set()).add(token)
    return shared


def _check_target_counts(hashes, expected, shared, problems) -> None:
    for collection, digest in hashes.items():
        want = expected.get(collection, 0) + len(shared.get(collection, ()))
        have = digest["documents"]
        if have != want:
            problems.append(f"{collection}: the target holds {have} documents, the run wrote "
                            f"{want}")


def check_reference(target_db, ref) -> list:
    """Every ref.collection.field value names a ref.target document (in the same scope).

    A referenced collection up to SET_LIMIT documents is held as a set of keys and the
    referring one streamed unsorted; a bigger one is checked by a sorted merge instead."""
    scope, tscope = ref.scope, ref.resolved_target_scope
    key_fields = [ref.field] + ([scope] if scope else [])
    target_fields = [ref.target_field] + ([tscope] if tscope else [])
    query = {ref.field: {"$exists": True, "$ne": None}}
    projection = {f: 1 for f in key_fields}
    if target_db[ref.target].estimated_document_count() <= SET_LIMIT:
        keys = {tuple(doc.get(f) for f in target_fields) for doc in target_db[ref.target].find(
            {}, {f: 1 for f in target_fields}, batch_size=1000)}
        missing = (doc for doc in target_db[ref.collection].find(query, projection,
                                                                 batch_size=1000)
                   if tuple(doc.get(f) for f in key_fields) not in keys)
    else:
        missing = _merge_missing(target_db, ref, key_fields, target_fields, query, projection)
    counter = itertools.count()
    # The smallest ids as examples: the same ones whichever way the check went.
    smallest = heapq.nsmallest(EXAMPLES, (doc.get("_id") for doc in missing
                                          if next(counter) >= 0), key=sort_key)
    broken = next(counter)
    examples = [str(doc_id) for doc_id in smallest]
    if not broken:
        return []
    where = f" in the same {scope}" if scope else ""
    return [f"{ref.collection}.{ref.field}: {broken} document(s) refer to no {ref.target}"
            f"{where} (e.g. {', '.join(examples)})"]


def _merge_missing(target_db, ref, key_fields, target_fields, query, projection):
    refs = target_db[ref.collection].find(
        query, projection, sort=[(f, 1) for f in key_fields] + [("_id", 1)], batch_size=1000)
    targets = target_db[ref.target].find(
        {}, {f: 1 for f in target_fields}, sort=[(f, 1) for f in target_fields],
        batch_size=1000)

    def key(doc, fields):
        return tuple(sort_key(doc.get(f)) for f in fields)

    head = next(targets, None)
    for doc in refs:
        wanted = key(doc, key_fields)
        while head is not None and key(head, target_fields) < wanted:
            head = next(targets, None)
        if head is None or key(head, target_fields) != wanted:
            yield doc
