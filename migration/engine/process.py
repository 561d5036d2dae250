"""One source document through its rule: transform, validate, classify, digest.

Both `plan` and `run` go through here, so what plan reports is exactly what run would write.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from bson.raw_bson import RawBSONDocument

from migration.engine.errors import ConfigError
from migration.engine.hashing import bson_bytes, derived_id, outcome_digest
from migration.engine.model import Drop, Merge, Quarantine, Write

QUARANTINE = "_quarantine"
# A quarantine record keeps the original document, but must stay under the 16 MiB a MongoDB
# document may hold: above this size, its big fields give way to their digest and size.
MAX_RECORD_BYTES = 15 * 1024 * 1024
KEPT_FIELD_BYTES = 1024
STATUSES = ("written", "merged", "quarantined", "dropped")


@dataclass
class DocResult:
    source_id: object
    status: str                       # one of STATUSES
    reason: str | None = None         # why merged / quarantined / dropped
    into: object = None               # merge target id
    writes: list = field(default_factory=list)   # [(collection, _id, RawBSONDocument)]
    primary_writes: int = 0
    digest: bytes = b""


class Context:
    def __init__(self, source: str, lookups: dict):
        self.source = source
        self._lookups = lookups
        self._children: dict = {}

    def lookup(self, name: str):
        try:
            return self._lookups[name]
        except KeyError:
            raise ConfigError(f"rule for {self.source!r} asks for lookup {name!r}, "
                              f"which it does not declare") from None

    def children(self, name: str) -> list:
        try:
            return self._children[name]
        except KeyError:
            raise ConfigError(f"rule for {self.source!r} asks for children {name!r}, "
                              f"which it does not declare") from None


class Processor:
    def __init__(self, rule, validator, lookups: dict):
        self.rule = rule
        self.validator = validator
        self.ctx = Context(rule.source, lookups)
        self.allowed_targets = {rule.target, *rule.also_writes}
        self.known_fields = {"_id", *rule.mapped, *rule.dropped}

    def unknown_fields(self, doc) -> set:
        return set(doc.keys()) - self.known_fields

    def process(self, doc: dict, children: dict) -> DocResult:
        self.ctx._children = children
        source_id = doc.get("_id")
        try:
            outcomes = list(self.rule.transform(doc, self.ctx))
        except ConfigError:
            raise
        except Exception as exc:  # noqa: BLE001 - a defect the chain missed: keep the document
            return self._quarantined(doc, f"transform failed: {type(exc).__name__}: {exc}")
        writes, problems, merge, quarantine, drop = [], [], None, None, None
        primary = 0
        for outcome in outcomes:
            if isinstance(outcome, Write):
                collection = outcome.collection or self.rule.target
                if collection not in self.allowed_targets:
                    raise ConfigError(
                        f"rule for {self.rule.source!r} wrote into {collection!r}, which is "
                        f"neither its target nor listed in also_writes")
                target_doc = outcome.doc
                if "_id" not in target_doc:
                    problems.append(f"{collection}: transform produced a document without _id")
                    continue
                problems.extend(self.validator.errors(collection, target_doc))
                writes.append((collection, target_doc["_id"],
                               RawBSONDocument(bson_bytes(target_doc))))
                primary += collection == self.rule.target
            elif isinstance(outcome, Quarantine):
                quarantine = quarantine or outcome.reason
            elif isinstance(outcome, Merge):
                merge = merge or outcome
            elif isinstance(outcome, Drop):
                drop = drop or outcome.reason
            else:
                raise ConfigError(f"rule for {self.rule.source!r} yielded {outcome!r}, which "
                                  f"is not Write, Merge, Quarantine or Drop")
        if quarantine or problems:
            return self._quarantined(doc, quarantine or "; ".join(problems))
        if primary:
            result = DocResult(source_id, "written", writes=writes, primary_writes=primary)
        elif merge is not None:
            result = DocResult(source_id, "merged", merge.reason, merge.into, writes=writes)
        elif drop is not None:
            result = DocResult(source_id, "dropped", drop, writes=writes)
        elif writes:
            return self._quarantined(doc, f"transform wrote only into {writes[0][0]!r}, not "
                                          f"into {self.rule.target!r}, and did not say why")
        else:
            return self._quarantined(doc, "transform yielded no outcome")
        return _digested(result)

    def _quarantined(self, doc, reason: str) -> DocResult:
        original = doc
        if any(name in doc for name in self.rule.redact):
            original = {key: _redacted(value) if key in self.rule.redact else value
                        for key, value in doc.items()}
        record = {"_id": derived_id("quarantine", self.rule.source, doc.get("_id")),
                  "collection": self.rule.source, "sourceId": doc.get("_id"),
                  "reason": reason, "document": original}
        encoded = bson_bytes(record)
        if len(encoded) > MAX_RECORD_BYTES:
            record.update(document=_shrunk(original, len(encoded)), truncated=True)
            encoded = bson_bytes(record)
            if len(encoded) > MAX_RECORD_BYTES:  # thousands of small fields: keep the id only
                record["document"] = {"_id": doc.get("_id"),
                                      "_truncated": record["document"]["_truncated"]}
                encoded = bson_bytes(record)
        raw = RawBSONDocument(encoded)
        return _digested(DocResult(doc.get("_id"), "quarantined", reason,
                                   writes=[(QUARANTINE, record["_id"], raw)]))


def _shrunk(original, size: int) -> dict:
    """The original with every field over KEPT_FIELD_BYTES replaced by "sha256:<hex> (<n>
    bytes, truncated)": the record says which document it was and how to recognise it."""
    kept = {}
    for key, value in original.items():
        data = bson_bytes({"v": value})
        kept[key] = value if len(data) <= KEPT_FIELD_BYTES or key == "_id" else \
            f"sha256:{hashlib.sha256(data).hexdigest()} ({len(data)} bytes, truncated)"
    kept["_truncated"] = f"the original record was {size} bytes, over the document limit"
    return kept


def _redacted(value) -> str:
    """A secret kept only as its SHA-256 hex, so the target never holds it in plain text."""
    data = value.encode("utf-8") if isinstance(value, str) else bson_bytes({"v": value})
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _digested(result: DocResult) -> DocResult:
    parts = [result.status.encode(), (result.reason or "").encode(), repr(result.into).encode()]
    for collection, _, raw in result.writes:
        parts.append(collection.encode())
        parts.append(raw.raw)
    result.digest = outcome_digest(parts)
    return result
