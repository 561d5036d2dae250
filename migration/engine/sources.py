"""Reading the source: compact lookups, children by sorted merge (batches: runner.py).

Memory stays flat in the size of the big collections: a driving collection is read in
batches, children arrive through one sorted cursor merged with the driving order, and only the
lookups (declared for small reference collections) are held whole.
"""
from __future__ import annotations

import heapq

from bson import ObjectId

from migration.engine.hashing import sort_key

BATCH_SIZE = 1000


def _extractor(spec):
    if callable(spec):
        return spec
    if isinstance(spec, tuple):
        return lambda doc: tuple(_normalize(doc.get(name)) for name in spec)
    return lambda doc: _normalize(doc.get(spec))


def _projection(*specs):
    names = set()
    for spec in specs:
        if spec is None:
            continue
        if callable(spec):
            return None  # a function may read anything
        names.update(spec if isinstance(spec, tuple) else (spec,))
    return {name: 1 for name in names} if names else None


def _normalize(value):
    """References written as 24-hex strings are the same reference as the ObjectId."""
    if isinstance(value, str) and len(value) == 24 and ObjectId.is_valid(value):
        return ObjectId(value)
    return value


class LookupMap:
    """A read-only mapping (or set, when built without values) over one source collection.

    Keys are normalized like references (a valid hex string matches its ObjectId)."""

    def __init__(self, name: str, data: dict, is_set: bool):
        self.name = name
        self._data = data
        self.is_set = is_set

    def __contains__(self, key) -> bool:
        return _key(key) in self._data

    def get(self, key, default=None):
        return self._data.get(_key(key), default)

    def __getitem__(self, key):
        return self._data[_key(key)]

    def __len__(self) -> int:
        return len(self._data)


def _key(key):
    if isinstance(key, tuple):
        return tuple(_normalize(k) for k in key)
    return _normalize(key)


def build_lookup(source_db, lookup) -> LookupMap:
    key_of = _extractor(lookup.key)
    value_of = _extractor(lookup.value) if lookup.value is not None else None
    projection = _projection(lookup.key, lookup.value)
    data: dict = {}
    cursor = source_db[lookup.collection].find(dict(lookup.where or {}), projection, sort=[("_id", 1)],
                                                batch_size=BATCH_SIZE)
    for doc in cursor:
        key = key_of(doc)
        if value_of is None:
            data[key] = True
            continue
        value = value_of(doc)
        if key in data:
            if lookup.combine is not None:
                data[key] = lookup.combine(data[key], value)
        else:
            data[key] = value
    return LookupMap(lookup.name, data, is_set=value_of is None)


class ChildMerger:
    """Hands out, for parents visited in increasing _id order, their children lists.

    Children whose foreign key is an ObjectId come from one cursor sorted by (key, _id);
    the few stored as 24-hex strings (a real-data defect) are normalized and sorted here."""

    def __init__(self, source_db, children, after=None):
        self.children = children
        coll = source_db[children.collection]
        fk = children.foreign_key
        typed = {fk: {"$type": "objectId"}}
        if after is not None:
            typed[fk]["$gt"] = after
        cursor = coll.find(typed, sort=[(fk, 1), ("_id", 1)], batch_size=BATCH_SIZE)
        strings = []
        for doc in coll.find({fk: {"$type": "string"}}, batch_size=BATCH_SIZE):
            key = _normalize(doc[fk])
            if isinstance(key, ObjectId) and (after is None or key > after):
                strings.append((key, doc["_id"], doc))
        strings.sort(key=lambda item: (item[0], sort_key(item[1])))
        typed_stream = ((doc[fk], doc["_id"], doc) for doc in cursor)
        self._stream = heapq.merge(typed_stream, strings,
                                   key=lambda item: (item[0], sort_key(item[1])))
        self._cursor = cursor
        self._head = next(self._stream, None)

    def take(self, parent_id) -> list:
        """The children of `parent_id`; children of ids skipped over are orphans (ignored)."""
        found = []
        if not isinstance(parent_id, ObjectId):
            return found
        while self._head is not None and self._head[0] < parent_id:
            self._head = next(self._stream, None)
        while self._head is not None and self._head[0] == parent_id:
            found.append(self._head[2])
            self._head = next(self._stream, None)
        return found

    def close(self):
        self._cursor.close()
