"""A generic, resumable, verified document migration engine (see README.md)."""
from migration.engine.hashing import derived_id
from migration.engine.model import (
    Children,
    CollectionRule,
    Drop,
    DropCollection,
    Lookup,
    Merge,
    Quarantine,
    Reference,
    Step,
    Write,
)

__all__ = [
    "Children", "CollectionRule", "Drop", "DropCollection", "Lookup", "Merge", "Quarantine",
    "Reference", "Step", "Write", "derived_id",
]
