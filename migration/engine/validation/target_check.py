"""`validate`: every document of a migrated database checked against a schema, typically the
one the application image about to start carries (`--schema-from-image`).

The migration validated each document it wrote against the schema it was given; a release
whose image was built from another schema (a field made required, an enum value removed) would
still fail on that data. This reads every collection the schema has a model for, streams its
documents through the same Validator, and reports each distinct problem once (model, field,
reason) with its count and a few `_id`s. Values are never repeated in the report: it reaches
deployment logs, and documents hold users' data.
"""
from __future__ import annotations

import re
import time
from collections import Counter

EXAMPLES = 3        # _ids kept per distinct problem
BATCH = 1000
_INDEX = re.compile(r"\[\d+\]")
# What the Validator says about a value ("the string 'alice@...'"): reduced to its type.
_VALUE = re.compile(r"""the string (?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")""")


def general_problem(reason: str) -> str:
    """One reason per (model, field, kind): list positions and string values left out."""
    return _VALUE.sub("a string", _INDEX.sub("[]", reason))


def internal(collection: str) -> bool:
    """The migration's own bookkeeping (`_migrations`, `_quarantine`, ledgers), and the server's."""
    return collection.startswith("_") or collection.startswith("system.")


def validate_target(target_db, validator) -> dict:
    """The report of `validate`: ok, problems (sentences), per collection documents/invalid."""
    started = time.monotonic()
    schema = validator.schema
    counts: Counter = Counter()
    examples: dict = {}
    collections: dict = {}
    problems: list = []
    for name in sorted(target_db.list_collection_names()):
        if internal(name):
            continue
        if not validator.has_collection(name):
            held = target_db[name].estimated_document_count()
            if held:
                problems.append(f"{name}: holds {held} documents and no model of the schema "
                                f"{schema.path} is stored in it")
            continue
        collections[name] = _scan(target_db[name], validator, counts, examples)
    for reason, count in sorted(counts.items()):
        ids = ", ".join(str(i) for i in examples[reason])
        problems.append(f"{reason} ({count} document{'s' if count > 1 else ''}, e.g. _id {ids})")
    return {"command": "validate", "ok": not problems, "problems": problems,
            "schema": str(schema.path), "validated": collections,
            "summary": {"ok": not problems, "schema": str(schema.path),
                        "documents": sum(c["documents"] for c in collections.values()),
                        "invalid": sum(c["invalid"] for c in collections.values()),
                        "problems": problems[:20], "moreProblems": max(0, len(problems) - 20)},
            "seconds": round(time.monotonic() - started, 3)}


def _scan(collection, validator, counts: Counter, examples: dict) -> dict:
    documents = invalid = 0
    for doc in collection.find({}, batch_size=BATCH):
        documents += 1
        reasons = {general_problem(r) for r in validator.errors(collection.name, doc)}
        if reasons:
            invalid += 1
        for reason in reasons:
            counts[reason] += 1
            kept = examples.setdefault(reason, [])
            if len(kept) < EXAMPLES:
                kept.append(doc.get("_id"))
    return {"documents": documents, "invalid": invalid}
