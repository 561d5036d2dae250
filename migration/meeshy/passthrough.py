"""Rules for collections whose documents keep their shape: only the defects are repaired.

The mapped fields are exactly the target model's fields (plus the legacy names a rule renames),
so a legacy field neither the model declares nor a rule drops makes `plan` fail instead of
vanishing.
"""
from __future__ import annotations

from migration.engine import CollectionRule, Quarantine, Write

from .coerce import Invalid, coerce_document, fill_timestamps, model, static_defaults


def carried_over(doc: dict, model_name: str, renamed=None, dropped=(), values=None) -> dict:
    """`doc` as a `model_name` document: legacy names renamed, dropped fields left out, legacy
    enum values translated, the schema's literal defaults where the legacy data has nothing."""
    out = {}
    for key, value in doc.items():
        if key in dropped:
            continue
        new = (renamed or {}).get(key, key)
        if new != key and new in doc:
            continue  # the document already holds the target's own field: it wins
        key = new
        out[key] = (values or {}).get(key, {}).get(value, value) if isinstance(value, str) else value
    for field, default in static_defaults(model_name).items():
        out.setdefault(field, default)
    return coerce_document(fill_timestamps(out, model_name), model_name)


def passthrough_rule(source: str, model_name: str, renamed=None, dropped=None,
                     values=None, collisions=()) -> CollectionRule:
    """`source` documents become `model_name` documents with the same _id and fields.

    renamed: {legacy field: target field}; dropped: {legacy field: why}; values: {target field:
    {legacy value: target value}} (e.g. an enum value the target renamed); collisions: how a
    collision under each unique of the target is resolved (collisions.py; default: the first
    `_id` is kept, the others quarantined).
    """
    from .collisions import UniqueGuard  # collisions.py judges documents with carried_over

    target = model(model_name)
    dropped = dict(dropped or {})

    def make(doc: dict) -> dict:
        return carried_over(doc, model_name, renamed, dropped, values)

    guard = UniqueGuard(source, model_name, make, collisions)

    def transform(doc: dict, ctx=None):
        try:
            migrated = make(doc)
        except Invalid as exc:
            yield Quarantine(str(exc))
            return
        yield guard.outcome(doc, migrated, ctx) or Write(migrated)

    transform.__name__ = transform.__qualname__ = f"carry_over_{source}"
    mapped = tuple(key for key, spec in target.fields.items() if not spec.is_id) + tuple(renamed or ())
    return CollectionRule(source=source, target=target.collection, transform=transform, mapped=mapped,
                          dropped=dropped, lookups=guard.lookups)
