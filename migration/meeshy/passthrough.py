"""Rules for collections whose documents keep their shape: only the defects are repaired.

The mapped fields are exactly the target model's fields, so a legacy field the model does
not declare makes `plan` fail instead of vanishing.
"""
from __future__ import annotations

from migration.engine import CollectionRule, Quarantine, Write

from .coerce import Invalid, coerce_document, fill_timestamps, model, static_defaults


def carried_over(doc: dict, model_name: str) -> dict:
    out = dict(doc)
    for field, default in static_defaults(model_name).items():
        out.setdefault(field, default)
    return coerce_document(fill_timestamps(out, model_name), model_name)


def passthrough_rule(source: str, model_name: str) -> CollectionRule:
    """`source` documents become `model_name` documents with the same _id and fields."""
    target = model(model_name)

    def transform(doc: dict, ctx=None):
        try:
            yield Write(carried_over(doc, model_name))
        except Invalid as exc:
            yield Quarantine(str(exc))

    transform.__name__ = transform.__qualname__ = f"carry_over_{source}"
    mapped = tuple(key for key, spec in target.fields.items() if not spec.is_id)
    return CollectionRule(source=source, target=target.collection, transform=transform, mapped=mapped)
