"""`plan`: the dry run. Reads every source document through its rule; writes nothing anywhere.

It reports what `run` would do per collection (same Processor, same validation), fails on
source data the chain does not account for, and, given a target, what the delta against the
previous run would be (from the target's ledger, read only).
"""
from __future__ import annotations

from migration.engine.hashing import sort_key
from migration.engine.model import CollectionRule, DropCollection
from migration.engine.process import Processor
from migration.engine.runner import stable_batches
from migration.engine.sources import BATCH_SIZE, ChildMerger, build_lookup
from migration.engine.target.ledger import LedgerReader
from migration.engine.target.uniques import UniqueTracker

LISTED = 1000  # ids listed per collection and outcome in the report; counts are always exact


def source_collections(source_db) -> list:
    return sorted(n for n in source_db.list_collection_names() if not n.startswith("system."))


def uncovered_collections(source_db, chain) -> list:
    driven = {rule.source for rule in chain.rules()}
    return [name for name in source_collections(source_db) if name not in driven]


def schema_problems(chain, schema) -> list:
    """Each rule writing into a collection the schema has no model for, named with its rule."""
    models = set(schema.collections())
    problems = []
    for step in chain.steps:
        for rule in step.rules:
            if not isinstance(rule, CollectionRule):
                continue
            for collection in dict.fromkeys((rule.target, *rule.also_writes)):
                if collection not in models:
                    problems.append(f"step {step.id}, rule for {rule.source!r} writes into "
                                    f"{collection!r}, which no model of the schema is stored in")
    return problems


def plan(source_db, chain, validator, target_db=None, batch_size: int = BATCH_SIZE,
         progress=None) -> dict:
    problems = [f"source collection {name} is neither migrated nor dropped by any rule of the "
                f"chain" for name in uncovered_collections(source_db, chain)]
    collections = {}
    uniques = UniqueTracker(validator.schema)
    for step in chain.steps:
        for rule in step.rules:
            if isinstance(rule, DropCollection):
                count = source_db[rule.source].count_documents({})
                collections[rule.source] = _entry(step, rule, documents=count, dropped=count)
                continue
            entry = _plan_rule(source_db, target_db, step, rule, validator, batch_size,
                               progress, uniques)
            collections[rule.source] = entry
            for field, doc_id in sorted(entry.pop("_unknown").items()):
                problems.append(f"source field {rule.source}.{field} (e.g. in document "
                                f"{doc_id}) is neither mapped nor dropped by its rule")
    problems.extend(uniques.collisions)
    if uniques.count > len(uniques.collisions):
        problems.append(f"... and {uniques.count - len(uniques.collisions)} more unique-key collisions")
    return {"collections": collections, "problems": problems, "ok": not problems,
            "unique_collisions": uniques.count}


def _entry(step, rule, **counts) -> dict:
    entry = {"step": step.id, "source": rule.source,
             "target": rule.target if isinstance(rule, CollectionRule) else None,
             "documents": 0, "written": 0, "merged": 0, "quarantined": 0, "dropped": 0,
             "quarantine": [], "merges": [], "drop_reasons": {}}
    if isinstance(rule, DropCollection):
        entry["drop_reasons"] = {rule.reason: counts.get("dropped", 0)}
    entry.update(counts)
    return entry


def _plan_rule(source_db, target_db, step, rule, validator, batch_size, progress, uniques) -> dict:
    entry = _entry(step, rule)
    entry["_unknown"] = {}
    lookups = {lk.name: build_lookup(source_db, lk) for lk in rule.lookups}
    processor = Processor(rule, validator, lookups)
    mergers = {c.name: ChildMerger(source_db, c) for c in rule.children}
    reader = LedgerReader(target_db, rule.source) if target_db is not None else None
    delta = {"new": 0, "changed": 0, "unchanged": 0, "gone": 0}
    task = progress.start(rule.source, source_db[rule.source]) if progress else None
    try:
        for batch in stable_batches(source_db[rule.source], None, batch_size):
            results = []
            for doc in batch:
                for name in processor.unknown_fields(doc):
                    entry["_unknown"].setdefault(name, doc.get("_id"))
                results.append(processor.process(doc, {n: m.take(doc["_id"])
                                                       for n, m in mergers.items()}))
            for result in results:
                _count(entry, result)
                uniques.add(rule.source, result)
            if reader is not None:
                old, _ = reader.take_upto(batch[-1]["_id"])
                _delta(delta, results, old)
            if task is not None:
                progress.advance(task, len(batch))
        if reader is not None:
            old, _ = reader.take_upto(until_end=True)
            delta["gone"] += len(old)
            entry["delta"] = delta
    finally:
        for merger in mergers.values():
            merger.close()
        if reader is not None:
            reader.close()
        if task is not None:
            progress.finish(task)
    return entry


def _count(entry, result) -> None:
    entry["documents"] += 1
    entry[result.status] += 1
    if result.status == "quarantined" and len(entry["quarantine"]) < LISTED:
        entry["quarantine"].append({"id": result.source_id, "reason": result.reason})
    elif result.status == "merged" and len(entry["merges"]) < LISTED:
        entry["merges"].append({"id": result.source_id, "into": result.into,
                                "reason": result.reason})
    elif result.status == "dropped":
        reasons = entry["drop_reasons"]
        reasons[result.reason] = reasons.get(result.reason, 0) + 1


def _delta(delta, results, old_entries) -> None:
    old = {sort_key(e.id): e for e in old_entries}
    for result in results:
        entry = old.pop(sort_key(result.source_id), None)
        if entry is None:
            delta["new"] += 1
        elif entry.digest == result.digest:
            delta["unchanged"] += 1
        else:
            delta["changed"] += 1
    delta["gone"] += len(old)
