"""The declarations a chain is made of (see README.md): steps, rules, lookups, outcomes.

Everything is a frozen dataclass so a chain is plain, comparable data that tests can inspect
without a database.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Optional, Union

FieldSpec = Union[str, tuple, Callable[[dict], Any]]


@dataclass(frozen=True)
class Lookup:
    """A compact read-only mapping built by streaming one source collection once."""
    name: str
    collection: str
    key: FieldSpec
    value: Optional[FieldSpec] = None
    combine: Optional[Callable[[Any, Any], Any]] = None
    where: Optional[Mapping[str, Any]] = None   # a server-side filter on the collection

    def __hash__(self):
        return hash(("Lookup", self.name, self.collection))


@dataclass(frozen=True)
class Children:
    """Documents of `collection` whose `foreign_key` is the driving document's _id."""
    name: str
    collection: str
    foreign_key: str


@dataclass(frozen=True)
class Reference:
    """Every `collection.field` value must be the `target_field` of a `target` document."""
    collection: str
    field: str
    target: str
    target_field: str = "_id"
    scope: Optional[str] = None
    target_scope: Optional[str] = None

    @property
    def resolved_target_scope(self) -> Optional[str]:
        return self.target_scope or self.scope


@dataclass(frozen=True)
class CollectionRule:
    source: str
    target: str
    transform: Callable[[dict, Any], Iterable[Any]]
    mapped: tuple = ()
    dropped: Mapping[str, str] = field(default_factory=dict)
    lookups: tuple = ()
    children: tuple = ()
    also_writes: tuple = ()
    # Source fields holding secrets: a quarantined original keeps only their sha256 hex.
    redact: tuple = ()

    def __hash__(self):  # dropped is a dict; identity is the source collection
        return hash(("CollectionRule", self.source))


@dataclass(frozen=True)
class DropCollection:
    source: str
    reason: str


@dataclass(frozen=True)
class Step:
    id: str
    previous: Optional[str]
    description: str
    rules: tuple = ()
    references: tuple = ()


# Outcomes a transform yields.
@dataclass(frozen=True)
class Write:
    doc: dict
    collection: Optional[str] = None


@dataclass(frozen=True)
class Merge:
    into: Any
    reason: str


@dataclass(frozen=True)
class Quarantine:
    reason: str


@dataclass(frozen=True)
class Drop:
    reason: str
