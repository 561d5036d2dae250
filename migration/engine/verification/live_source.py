"""Verification of a pre-copy: a pass over a source that still takes writes.

A switch copies most of the data while production still runs (the pre-copy), then freezes the
source (maintenance) and runs a delta pass that carries what changed since. The pre-copy
cannot be held to "the source holds exactly what the run accounted for": documents arrive,
change and go while it reads. What it can be held to, and is:
- every document it read is accounted for (written + merged + quarantined + dropped = read),
  and the target holds exactly what it wrote (verify.py's target counts, unchanged);
- no invalid document slips through (schema validation and the quarantine ratio, as always),
  no source field or collection is left uncovered (refused before any write, as always);
- indexes exist and uniques hold.
Two checks are reported instead of failing it, because writes during the pass cause them and
the strict delta pass re-checks both on a frozen source:
- the source's count now against what the pass read (`source_changes`: per collection, the
  documents read, the documents the source holds at verification, the net growth);
- references: a document read late may name one that arrived after its own collection was read.
The run is recorded as provisional (`_migrations`), so `status` never mistakes it for a
verified copy.
"""
from __future__ import annotations

from migration.engine.model import CollectionRule
from migration.engine.process import QUARANTINE

STATUS_KEYS = ("written", "merged", "quarantined", "dropped")


def check_sources_live(source_db, rules, progress, problems, count) -> tuple[dict, dict]:
    """(documents expected per target collection, source changes per source collection).

    `count(collection)` gives the source's document count now (verify.metadata_count)."""
    expected, changes = {QUARANTINE: 0}, {}
    for rule in rules:
        counts = (progress.get(rule.source) or {}).get("counts")
        if counts is None or not progress[rule.source].get("done"):
            problems.append(f"{rule.source}: the last run did not finish this collection")
            continue
        read = counts["documents"]
        accounted = sum(counts[k] for k in STATUS_KEYS)
        if accounted != read:
            problems.append(
                f"{rule.source}: the pass read {read} documents and accounted for {accounted} "
                f"(written {counts['written']} + merged {counts['merged']} + quarantined "
                f"{counts['quarantined']} + dropped {counts['dropped']})")
        now = count(source_db[rule.source])
        changes[rule.source] = {"read": read, "source_now": now, "growth": now - read}
        if isinstance(rule, CollectionRule):
            expected[rule.target] = expected.get(rule.target, 0) + counts["primary_writes"]
            expected[QUARANTINE] += counts["quarantined"]
    return expected, changes

