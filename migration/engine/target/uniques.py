"""Unique keys of the target, checked on what a run would write: `plan` names every collision
the rules leave (two different documents with one key under a declared unique), which the
index build would otherwise be the first to find, after the whole run."""
from __future__ import annotations

from migration.engine.hashing import sort_key

LISTED = 1000  # collisions named in the report; the count is always exact


class UniqueTracker:
    """Remembers, per unique index of the schema, the key of every document a run would write."""

    def __init__(self, schema):
        self._indexes = {model.collection: [i for i in model.indexes if i.unique]
                         for model in schema.models.values()}
        self._seen: dict = {}
        self.collisions: list = []
        self.count = 0

    def add(self, source: str, result) -> None:
        for collection, doc_id, document in result.writes:
            for index in self._indexes.get(collection, ()):
                values = [_path(document, field) for field, _ in index.keys]
                key = tuple(_key_part(v) for v in values)
                here = (doc_id, source, result.source_id)
                first = self._seen.setdefault((collection, index.name, key), here)
                if sort_key(first[0]) != sort_key(doc_id):
                    self._collide(collection, index, values, first, here)

    def _collide(self, collection, index, values, first, second) -> None:
        self.count += 1
        if len(self.collisions) < LISTED:
            fields = ", ".join(field for field, _ in index.keys)
            shown = ", ".join("null" if v is None else repr(v) for v in values)
            self.collisions.append(
                f"unique {index.name} on {collection}: {first[1]} {first[2]} and {second[1]} {second[2]} "
                f"would both write ({fields}) = ({shown}) "
                f"and no rule "
                f"resolves it: the index build would fail")


def _path(document, dotted: str):
    value = document
    for part in dotted.split("."):
        value = value.get(part) if hasattr(value, "get") else None
    return value


def _key_part(value):
    # A missing field and a null are the same key to a unique index (both index as null).
    if value is None:
        return None
    try:
        return sort_key(value)
    except TypeError:  # a list or another type the server orders its own way: compare as text
        return (99, repr(value))
