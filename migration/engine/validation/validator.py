"""Checks a document against its Prisma model: the reasons a write would be quarantined.

Compiled once per model into plain closures, because every written document passes through
here and the benchmark counts documents per second.
"""
from __future__ import annotations

import datetime as _dt
from decimal import Decimal

from bson import Binary, Decimal128, ObjectId

from migration.engine.validation.schema import Composite, Field, Schema


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _is_float(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


_SCALAR_CHECKS = {
    "String": (lambda v: isinstance(v, str), "a string"),
    "Int": (_is_int, "an integer"),
    "BigInt": (_is_int, "an integer"),
    "Float": (_is_float, "a number"),
    "Decimal": (lambda v: isinstance(v, (Decimal128, Decimal)) or _is_float(v), "a decimal"),
    "Boolean": (lambda v: isinstance(v, bool), "a boolean"),
    "DateTime": (lambda v: isinstance(v, _dt.datetime), "a date"),
    "Json": (lambda v: True, "JSON"),
    "Bytes": (lambda v: isinstance(v, (bytes, Binary)), "binary data"),
}
_OBJECT_ID = (lambda v: isinstance(v, ObjectId), "an ObjectId")


def _describe(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the string {shown!r}"
    return f"a {type(value).__name__}"


class Validator:
    """validator.errors(collection, doc) -> list of reasons ("Message.senderId: missing ...")."""

    def __init__(self, schema: Schema):
        self.schema = schema
        self._compiled: dict = {}

    def has_collection(self, collection: str) -> bool:
        return self.schema.model_for_collection(collection) is not None

    def errors(self, collection: str, doc: dict) -> list:
        check = self._compiled.get(collection)
        if check is None:
            model = self.schema.model_for_collection(collection)
            if model is None:
                return [f"{collection}: the schema has no model stored in this collection"]
            check = self._compiled[collection] = self._compile(model)
        problems: list = []
        check(doc, collection, problems)
        return problems

    def _compile(self, composite: Composite):
        checks = {name: self._compile_field(f) for name, f in composite.fields.items()}
        required = [name for name, f in composite.fields.items() if not f.optional]

        def check(doc, path, problems):
            if not isinstance(doc, dict):
                problems.append(f"{path}: expected an embedded document, found {_describe(doc)}")
                return
            for key, value in doc.items():
                field_check = checks.get(key)
                if field_check is None:
                    problems.append(f"{path}.{key}: field not declared by {composite.name}")
                else:
                    field_check(value, f"{path}.{key}", problems)
            for key in required:
                if key not in doc:
                    problems.append(f"{path}.{key}: missing required field")
        return check

    def _compile_field(self, f: Field):
        element = self._compile_element(f)

        def check(value, path, problems):
            if value is None:
                if not f.optional:
                    problems.append(f"{path}: required field is null")
                return
            if f.is_list:
                if not isinstance(value, list):
                    problems.append(f"{path}: expected a list, found {_describe(value)}")
                    return
                for i, item in enumerate(value):
                    element(item, f"{path}[{i}]", problems)
            else:
                element(value, path, problems)
        return check

    def _compile_element(self, f: Field):
        if f.type in self.schema.enums:
            allowed = self.schema.enums[f.type]

            def enum_check(value, path, problems):
                if value not in allowed:
                    problems.append(f"{path}: {_describe(value)} is not a value of enum {f.type} "
                                    f"({', '.join(sorted(allowed))})")
            return enum_check
        if f.type in self.schema.types:
            nested_holder: list = []

            def embedded_check(value, path, problems):
                if not nested_holder:  # compiled lazily: embedded types may refer to each other
                    nested_holder.append(self._compile(self.schema.types[f.type]))
                nested_holder[0](value, path, problems)
            return embedded_check
        predicate, expected = _OBJECT_ID if f.object_id else _SCALAR_CHECKS[f.type]

        def scalar_check(value, path, problems):
            if not predicate(value):
                problems.append(f"{path}: expected {expected}, found {_describe(value)}")
        return scalar_check
