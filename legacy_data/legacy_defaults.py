"""The fields the legacy schemas declare with a default: Prisma wrote them into every document
created by a version that declared them, so production's documents may carry them.

The generator adds them (with the literal default, a `now()` default as the document's own
creation date) to a deterministic share of each collection's documents, read from the copies
of the two legacy schemas in `legacy/`, the second one first (its defaults are the latest).
"""
from __future__ import annotations

import functools
import pathlib
import random
from datetime import datetime

from migration.engine.validation.schema import load_schema

LEGACY_DIR = pathlib.Path(__file__).resolve().parents[1] / "migration" / "meeshy" / "legacy"
LEGACY_SCHEMAS = ("legacy-2026-01-22-cf31b1a00.prisma", "legacy-2025-12-10-06c4a4ab5.prisma")
SHARE = 0.5  # documents written by a version declaring the defaults, the others before it
# A default that would contradict what the generator chose for a document: `isDeleted: false`
# on a message the generator deleted (deletedAt set) is a defect generated on purpose elsewhere.
SKIPPED = {"Message": {"isDeleted"}}


@functools.lru_cache(maxsize=None)
def legacy_models() -> tuple:
    return tuple(load_schema(LEGACY_DIR / name) for name in LEGACY_SCHEMAS)


@functools.lru_cache(maxsize=None)
def defaulted_fields(collection: str) -> tuple:
    """(field, literal value or None for now()) of the legacy model stored in `collection`."""
    for schema in legacy_models():
        found = schema.model_for_collection(collection)
        if found is not None:
            return tuple((key, _literal(f.default, f.type, f.is_list))
                         for key, f in found.fields.items()
                         if f.default is not None and not f.is_id
                         and key not in SKIPPED.get(collection, ()) and _usable(f.default))
    return ()


def _usable(default: str) -> bool:
    return default == "now()" or "(" not in default


def _literal(text: str, type_name: str, is_list: bool):
    if text == "now()":
        return None
    if is_list or text == "[]":
        return []
    if text in ("true", "false"):
        return text == "true"
    if text.startswith('"'):
        return text[1:-1]
    if type_name in ("Int", "BigInt"):
        return int(text)
    if type_name == "Float":
        return float(text)
    return text  # an enum value


def with_legacy_defaults(collection: str, documents, seed: int):
    """`documents` with, for the first one and SHARE of the others, every defaulted field they
    lack (a copy each): even a tiny collection carries them."""
    fields = defaulted_fields(collection)
    rng = random.Random(f"{seed}:{collection}:defaults")
    for number, doc in enumerate(documents):
        if not fields or (number and rng.random() >= SHARE):
            yield doc
            continue
        out = dict(doc)
        created = doc.get("createdAt") if isinstance(doc.get("createdAt"), datetime) else \
            doc["_id"].generation_time.replace(tzinfo=None)
        for key, value in fields:
            if key not in out:
                out[key] = created if value is None else (list(value) if isinstance(value, list) else value)
        yield out
