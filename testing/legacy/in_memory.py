"""An in-memory stand-in for the engine's transform context, for pure tests and previews.

It builds each declared Lookup with the same key/value/combine functions and `_id` order the
engine uses, and finds children by foreign key (ObjectId or its hex string form), so a rule's
transform can be exercised on a hand-built dataset without a database.
"""
from __future__ import annotations

from migration.engine.hashing import sort_key
from migration.meeshy.coerce import as_object_id
from migration.meeshy.lookups import materialize


class InMemoryContext:
    def __init__(self, dataset: dict, rule):
        self.source = rule.source
        self._lookups = {lk.name: materialize(lk, dataset.get(lk.collection, [])) for lk in rule.lookups}
        self._children_specs = {c.name: c for c in rule.children}
        self._dataset = dataset
        self._current = None

    def lookup(self, name: str):
        return self._lookups[name]

    def children(self, name: str) -> list:
        spec = self._children_specs[name]
        parent = self._current["_id"]
        found = [d for d in self._dataset.get(spec.collection, [])
                 if as_object_id(d.get(spec.foreign_key)) == parent]
        return sorted(found, key=lambda d: sort_key(d["_id"]))

    def outcomes(self, doc: dict) -> list:
        """Every outcome the rule's transform yields for `doc`."""
        self._current = doc
        return list(self._rule_transform(doc, self))

    @classmethod
    def run(cls, dataset: dict, rule) -> dict:
        """{source _id: [outcomes]} for every document of the rule's source collection."""
        ctx = cls(dataset, rule)
        ctx._rule_transform = rule.transform
        return {doc["_id"]: ctx.outcomes(doc) for doc in dataset.get(rule.source, [])}


def rule_for(source: str):
    """The chain's rule driving `source`."""
    from migration.meeshy import CHAIN
    for step in CHAIN:
        for rule in step.rules:
            if rule.source == source:
                return rule
    raise KeyError(f"no rule drives {source!r}")


def migrate_in_memory(dataset: dict, source: str) -> dict:
    """{source _id: [outcomes]} of the chain's rule for `source` over an in-memory dataset."""
    return InMemoryContext.run(dataset, rule_for(source))
