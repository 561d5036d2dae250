"""Repairs for the type defects real legacy documents have, driven by the target schema.

References stored as 24-hex strings become ObjectIds, dates stored as ISO-8601 strings become
dates; anything that cannot be repaired raises `Invalid`, which the steps turn into a
quarantine naming the field. Absent fields stay absent and nulls stay null (only the
validator decides whether a field may be missing), except the optional fields the services
filter with `null`, which a top-level model document always carries (explicit_nulls.py).
"""
from __future__ import annotations

import functools
import pathlib
import re
from datetime import datetime, timezone

from bson import ObjectId

from migration.engine.validation.schema import load_schema

from .explicit_nulls import with_explicit_nulls

SCHEMA_PATH = pathlib.Path(__file__).with_name("schema.prisma")
_LITERAL_DEFAULT = re.compile(r'^(true|false|-?\d+(\.\d+)?|"[^"]*"|[A-Za-z_]\w*)$')


class Invalid(ValueError):
    """A legacy value that cannot be carried over; the message names the field."""


@functools.lru_cache(maxsize=None)
def target_schema():
    return load_schema(SCHEMA_PATH)


def model(name: str):
    found = target_schema().models.get(name)
    if found is None:
        raise KeyError(f"model {name!r} is not in {SCHEMA_PATH.name}")
    return found


def as_object_id(value):
    """The ObjectId a reference denotes, or None when it denotes none (not raising)."""
    if isinstance(value, ObjectId):
        return value
    if isinstance(value, str) and len(value) == 24 and ObjectId.is_valid(value):
        return ObjectId(value)
    return None


def object_id(value, path: str) -> ObjectId:
    found = as_object_id(value)
    if found is None:
        raise Invalid(f"{path}: {value!r} is not an ObjectId reference")
    return found


def as_date(value):
    """The date a legacy value denotes (naive UTC, millisecond precision like BSON), or None."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def date(value, path: str) -> datetime:
    found = as_date(value)
    if found is None:
        raise Invalid(f"{path}: {value!r} is not a date")
    return found


def coerce_document(doc: dict, composite_name: str, path: str = "") -> dict:
    """A copy of `doc` with every DateTime and ObjectId field of the model repaired; a model
    document (not an embedded one) also gets its explicit nulls (explicit_nulls.py)."""
    out = dict(doc)
    if not path:
        with_explicit_nulls(out, composite_name)
    for key, is_list, repair in _repairs(composite_name):
        value = out.get(key)
        if value is None:
            continue
        where = f"{path}{key}"
        if is_list:
            if not isinstance(value, list):
                raise Invalid(f"{where}: expected a list, found {type(value).__name__}")
            out[key] = [repair(v, f"{where}[{i}]") for i, v in enumerate(value)]
        else:
            out[key] = repair(value, where)
    return out


@functools.lru_cache(maxsize=None)
def _repairs(composite_name: str) -> tuple:
    """(field, is list, repair function) for the fields of a model or type that need one;
    compiled once per composite because this runs for every migrated document."""
    schema = target_schema()
    composite = schema.models.get(composite_name) or schema.types[composite_name]
    plan = []
    for key, spec in composite.fields.items():
        if spec.is_id:
            continue
        if spec.object_id:
            plan.append((key, spec.is_list, object_id))
        elif spec.type == "DateTime":
            plan.append((key, spec.is_list, date))
        elif spec.type in schema.types:
            plan.append((key, spec.is_list, _embedded(spec.type)))
    return tuple(plan)


def _embedded(type_name: str):
    def repair(value, where):
        return coerce_document(value, type_name, f"{where}.") if isinstance(value, dict) else value
    return repair


def static_defaults(composite_name: str) -> dict:
    """A fresh copy (lists are not shared between documents) of `_static_defaults`."""
    return {k: (list(v) if isinstance(v, list) else v) for k, v in _static_defaults(composite_name)}


@functools.lru_cache(maxsize=None)
def _static_defaults(composite_name: str) -> tuple:
    """Literal @default values of required fields (what the application writes on create),
    and [] for lists (Prisma reads an absent list as empty).

    `now()`, `auto()` and friends are not literals: a document missing such a field is left
    to the validator rather than given an invented date.
    """
    schema = target_schema()
    composite = schema.models.get(composite_name) or schema.types[composite_name]
    out = {}
    for key, spec in composite.fields.items():
        if spec.is_list and not spec.is_id:
            out[key] = []
        elif not spec.optional and spec.default and _LITERAL_DEFAULT.match(spec.default):
            out[key] = _literal(spec.default, spec.type)
    return tuple(out.items())


def _literal(text: str, type_name: str):
    if text in ("true", "false"):
        return text == "true"
    if text.startswith('"'):
        return text[1:-1]
    if type_name == "Int":
        return int(text)
    if type_name == "Float":
        return float(text)
    return text  # an enum value


def fill_timestamps(doc: dict, model_name: str) -> dict:
    """Required createdAt/updatedAt a legacy document never got: the creation is the moment
    its ObjectId was made, and a document never updated was last updated when created."""
    fields = model(model_name).fields
    if "createdAt" in fields and not fields["createdAt"].optional and doc.get("createdAt") is None:
        if hasattr(doc.get("_id"), "generation_time"):
            doc["createdAt"] = doc["_id"].generation_time.replace(tzinfo=None)
    if "updatedAt" in fields and not fields["updatedAt"].optional and doc.get("updatedAt") is None:
        if doc.get("createdAt") is not None:
            doc["updatedAt"] = doc["createdAt"]
    return doc
