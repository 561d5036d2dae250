"""Reading the source: compact lookups, children by sorted merge (batches: runner.py).

Memory stays flat in the size of the big collections: a driving collection is read in
batches, children arrive through one sorted cursor merged with the driving order, and only the
lookups (declared for small reference collections) are held whole.
"""
from __future__ import annotations

import heapq
import pickle

from bson import ObjectId

from migration.engine.errors import CoverageError
from migration.engine.hashing import _encode, sort_key
from migration.engine.keyset import SPILL_AT, Spillable, temporary_sqlite

BATCH_SIZE = 1000


def check_id(collection: str, doc) -> None:
    """Ids are keys everywhere (batches, ledger, lookups, derived ids): an embedded document
    or an array cannot be one, and is refused with the document named (exit 3)."""
    doc_id = doc.get("_id")
    if isinstance(doc_id, (dict, list)):
        kind = "an embedded document" if isinstance(doc_id, dict) else "an array"
        raise CoverageError(f"source document {doc_id!r} of {collection} has an _id that is "
                            f"{kind}, which the migration cannot key: give it a scalar _id or "
                            f"remove it from the source; nothing of its batch was written")


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


class LookupMap(Spillable):
    """A read-only mapping (or set, when built without values) over one source collection.

    Keys are normalized like references (a valid hex string matches its ObjectId). Up to
    SPILL_AT entries live in a dict; a bigger lookup moves to a temporary SQLite file (keys
    canonically encoded, values pickled), so memory stays flat whatever the collection size."""

    def __init__(self, name: str, is_set: bool, combine=None):
        self.name = name
        self.is_set = is_set
        self._combine = combine
        self._data: dict = {}
        self._db = None

    # -- building -------------------------------------------------------------------------
    def _put(self, key, value) -> None:
        if self._db is None:
            if key in self._data:
                if self._combine is not None:
                    self._data[key] = self._combine(self._data[key], value)
                return
            self._data[key] = value
            if len(self._data) > SPILL_AT:
                self._spill()
            return
        packed = _pack_key(key)
        if self._combine is not None:
            row = self._db.execute("SELECT v FROM m WHERE k = ?", (packed,)).fetchone()
            if row is not None:
                value = self._combine(pickle.loads(row[0]), value)
        self._db.execute("INSERT OR REPLACE INTO m VALUES (?, ?)" if self._combine else
                         "INSERT OR IGNORE INTO m VALUES (?, ?)",
                         (packed, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)))

    def _spill(self) -> None:
        try:
            rows = [(_pack_key(k), pickle.dumps(v, protocol=pickle.HIGHEST_PROTOCOL))
                    for k, v in self._data.items()]
        except TypeError:
            return  # keys the canonical encoding cannot express: stay in memory
        self._db = temporary_sqlite("migration-lookup-")
        self._db.execute("CREATE TABLE m (k BLOB PRIMARY KEY, v BLOB) WITHOUT ROWID")
        self._db.executemany("INSERT INTO m VALUES (?, ?)", rows)
        self._data = {}

    # -- reading --------------------------------------------------------------------------
    def _find(self, key):
        key = _key(key)
        if self._db is None:
            return self._data.get(key, _MISSING)
        try:
            row = self._db.execute("SELECT v FROM m WHERE k = ?", (_pack_key(key),)).fetchone()
        except TypeError:
            return _MISSING
        return _MISSING if row is None else pickle.loads(row[0])

    def __contains__(self, key) -> bool:
        return self._find(key) is not _MISSING

    def get(self, key, default=None):
        value = self._find(key)
        return default if value is _MISSING else value

    def __getitem__(self, key):
        value = self._find(key)
        if value is _MISSING:
            raise KeyError(key)
        return value

    def __len__(self) -> int:
        if self._db is None:
            return len(self._data)
        return self._db.execute("SELECT count(*) FROM m").fetchone()[0]


_MISSING = object()


def _pack_key(key) -> bytes:
    out: list = []
    _encode(key, out)
    return b"".join(out)


def _key(key):
    if isinstance(key, tuple):
        return tuple(_normalize(k) for k in key)
    return _normalize(key)


def build_lookup(source_db, lookup) -> LookupMap:
    key_of = _extractor(lookup.key)
    value_of = _extractor(lookup.value) if lookup.value is not None else None
    projection = _projection(lookup.key, lookup.value)
    built = LookupMap(lookup.name, is_set=value_of is None, combine=lookup.combine)
    cursor = source_db[lookup.collection].find(dict(lookup.where or {}), projection,
                                                sort=[("_id", 1)], batch_size=BATCH_SIZE)
    for doc in cursor:
        check_id(lookup.collection, doc)
        try:
            built._put(key_of(doc), True if value_of is None else value_of(doc))
        except TypeError:  # an unhashable key: an embedded document or array in a key field
            raise CoverageError(f"lookup {lookup.name}: document {doc.get('_id')} of "
                                f"{lookup.collection} has a key that is an embedded document "
                                f"or an array ({lookup.key!r}), which cannot be looked up") \
                from None
    if built._db is not None:
        built._db.commit()
    return built


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
