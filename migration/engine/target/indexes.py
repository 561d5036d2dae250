"""The indexes and uniques the target schema declares, created after the data is written."""
from __future__ import annotations

from pymongo import IndexModel
from pymongo.errors import OperationFailure

from migration.engine.errors import ConfigError

# Codes MongoDB uses when an index of that name or keys exists with other options.
_CONFLICT_CODES = {85, 86}
DUPLICATE_KEY = 11000


def declared_indexes(schema, collection: str) -> list:
    model = schema.model_for_collection(collection)
    if model is None:
        raise ConfigError(f"the schema {schema.path} has no model stored in {collection!r}")
    return list(model.indexes)


def indexed_collections(schema, written_now, written_by_chain) -> list:
    """The collections whose indexes a run creates: those it wrote, and every model of the
    schema no rule of the chain writes (created empty with their indexes, as `prisma db push`
    would, so the services find every declared index). A collection a later step writes gets
    its indexes after its own data, when that step runs."""
    never_written = set(schema.collections()) - set(written_by_chain)
    return sorted(set(written_now) | never_written)


def index_counts(schema, collections, missing) -> dict:
    """Declared indexes of `collections` and how many exist as declared (`missing`: the
    problems missing_indexes found, one per index)."""
    declared = sum(len(declared_indexes(schema, c)) for c in collections)
    return {"declared": declared, "present": declared - len(missing)}


def ensure_indexes(target_db, schema, collections) -> list:
    """Creates every declared index; returns problems (e.g. a unique index the data breaks)."""
    problems = []
    for collection in collections:
        indexes = declared_indexes(schema, collection)
        if _create_all(target_db[collection], indexes):
            continue
        for index in indexes:
            try:
                _create(target_db[collection], index)
            except OperationFailure as exc:
                text = str(exc).lower()
                if exc.code == DUPLICATE_KEY or "duplicate key" in text \
                        or "unique constraint failed" in text:  # FerretDB's wording
                    problems.append(f"unique index {index.name} on {collection} cannot be built: "
                                    f"the data holds duplicates of {_keys(index)}"
                                    f"{_duplicates(target_db[collection], index)}")
                else:
                    problems.append(f"index {index.name} on {collection} cannot be built: "
                                    f"{_first_line(exc)}")
    return problems


def _options(index) -> dict:
    return {"name": index.name, "unique": True} if index.unique else {"name": index.name}


def _create_all(collection, indexes) -> bool:
    """A collection's missing indexes in one command: one index build round on the server
    (DocumentDB queues each createIndexes for a background job that runs every second or two,
    so one command per index cost minutes on a whole schema). Only those not already there as
    declared are sent (FerretDB 1.24 drops the connection on a batch of existing ones). False
    when the command fails: they are then made one by one, which says which and puts
    conflicting ones right."""
    existing = collection.index_information()
    missing = [i for i in indexes if _difference(existing.get(i.name), i) is not None]
    if not missing:
        return True
    try:
        collection.create_indexes([IndexModel(list(i.keys), **_options(i)) for i in missing])
    except OperationFailure:
        return False
    return True


def _create(collection, index) -> None:
    options = _options(index)
    try:
        collection.create_index(list(index.keys), **options)
    except OperationFailure as exc:
        if exc.code not in _CONFLICT_CODES:
            raise
        # Same name or keys with other options (e.g. made by hand, not unique): make it right.
        for name, info in collection.index_information().items():
            if name == index.name or list(info["key"]) == list(index.keys):
                if name != "_id_":
                    collection.drop_index(name)
        collection.create_index(list(index.keys), **options)


def missing_indexes(target_db, schema, collections) -> list:
    """Declared indexes absent from the target, or present without their unique flag."""
    problems = []
    for collection in collections:
        existing = target_db[collection].index_information()
        for index in declared_indexes(schema, collection):
            difference = _difference(existing.get(index.name), index)
            if difference is not None:
                problems.append(f"index {index.name} on {collection} {difference}")
    return problems


def _difference(info: dict | None, index) -> str | None:
    """How an existing index (index_information's entry, None when absent) differs from the
    declared one; None when it is as declared."""
    if info is None:
        return "is missing"
    if [tuple(k) for k in info["key"]] != [tuple(k) for k in index.keys]:
        return f"has keys {info['key']}, the schema declares {list(index.keys)}"
    if bool(info.get("unique")) != index.unique:
        return f"should {'' if index.unique else 'not '}be unique"
    return None


def _keys(index) -> str:
    return "(" + ", ".join(name for name, _ in index.keys) + ")"


def _duplicates(collection, index, examples: int = 3) -> str:
    """A few duplicated values and the ids holding them (only on this failure path; FerretDB
    has no $push, so the ids come from a find per value)."""
    names = [name for name, _ in index.keys]
    group = {"_id": {f"k{n}": f"${name}" for n, name in enumerate(names)}, "n": {"$sum": 1}}
    shown = []
    try:
        for doc in collection.aggregate([{"$group": group}, {"$match": {"n": {"$gt": 1}}},
                                         {"$limit": examples}]):
            values = {name: doc["_id"].get(f"k{n}") for n, name in enumerate(names)}
            ids = [str(d["_id"]) for d in collection.find(values, {"_id": 1}).limit(5)]
            shown.append(", ".join(f"{k}={v!r}" for k, v in values.items())
                         + f" in documents {', '.join(ids)}")
    except OperationFailure:
        return ""
    return f" (e.g. {'; '.join(shown)})" if shown else ""


def _first_line(exc) -> str:
    return str(exc).splitlines()[0][:300]
