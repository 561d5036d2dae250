"""Collisions under the target's unique keys, resolved as each rule declares, before any write.

A legacy collection may hold two documents the target's unique index cannot both hold (two
preferences of one user for one conversation). Each unique index of a carried-over model has a
declared resolution: `merge` (the loser is counted merged into the winner) or `quarantine`
(the loser is quarantined naming the winner); the winner is the first `_id` or the latest
`updatedAt` (ties: the larger `_id`). The groups are a Lookup over the source collection, keyed
by the unique fields of the migrated document, so the outcome is decided per document as the
engine streams the source, and `plan` reports it exactly as `run` does it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from migration.engine import Lookup, Merge, Quarantine, Write
from migration.engine.hashing import sort_key

from .coerce import as_date, model
from .lookups import checked


@dataclass(frozen=True)
class OnCollision:
    index: str                 # the target unique index (Prisma's name)
    resolve: str = "quarantine"  # or "merge"
    winner: str = "first"        # or "latest updatedAt"


def _rank(doc: dict):
    return as_date(doc.get("updatedAt")) or datetime.min, sort_key(doc["_id"])


def _latest(old, new):
    return new if (new[0], new[1]) > (old[0], old[1]) else old


class UniqueGuard:
    """The declared resolution of every unique index of `model_name` for one source rule."""

    def __init__(self, source: str, model_name: str, make, declared=()):
        target = model(model_name)
        by_index = {d.index: d for d in declared}
        unknown = set(by_index) - {i.name for i in target.indexes if i.unique}
        if unknown:
            raise ValueError(f"{source}: no unique index {sorted(unknown)} on {model_name}")
        self.entries = []
        for index in (i for i in target.indexes if i.unique):
            policy = by_index.get(index.name, OnCollision(index.name))
            fields = tuple(field for field, _ in index.keys)
            lookup = Lookup(f"unique:{source}:{index.name}", source, key=self._key(make, model_name, fields),
                            value=lambda doc: _rank(doc) + (doc["_id"],),
                            combine=_latest if policy.winner == "latest updatedAt" else None)
            self.entries.append((policy, fields, lookup))
        self.lookups = tuple(lookup for _, _, lookup in self.entries)

    @staticmethod
    def _key(make, model_name, fields):
        def key(doc: dict):
            migrated = checked(lambda: make(doc), model_name)
            if migrated is None:
                return None  # quarantined by its rule: it takes no key
            return tuple(None if migrated.get(f) is None else sort_key(migrated[f]) for f in fields)
        return key

    def outcome(self, doc: dict, migrated: dict, ctx):
        """None when `doc` wins every unique key it has, else its Merge or Quarantine."""
        for policy, fields, lookup in self.entries:
            key = tuple(None if migrated.get(f) is None else sort_key(migrated[f]) for f in fields)
            winner = ctx.lookup(lookup.name).get(key)
            if winner is None or sort_key(winner[-1]) == sort_key(doc["_id"]):
                continue
            shown = ", ".join(f"{f}={migrated.get(f)!r}" for f in fields)
            why = f"unique {policy.index} ({shown}): {winner[-1]} is kept (the {policy.winner})"
            return Merge(winner[-1], f"duplicate under {why}") if policy.resolve == "merge" \
                else Quarantine(f"duplicate under {why}")
        return None

    def guarded(self, transform):
        """`transform` with its primary Write replaced by the resolution when it loses a key."""
        def checked_transform(doc: dict, ctx):
            for outcome in transform(doc, ctx):
                if isinstance(outcome, Write) and outcome.collection is None:
                    outcome = self.outcome(doc, outcome.doc, ctx) or outcome
                yield outcome
        checked_transform.__name__ = checked_transform.__qualname__ = f"unique_{transform.__name__}"
        return checked_transform
