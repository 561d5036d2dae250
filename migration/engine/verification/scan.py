"""One read of each target collection: its content hash and its side of every reference.

Reading is what verification costs (on FerretDB reading a document costs more than writing
it), so each target collection is read once. Referenced collections are read first and keep the
keys other collections point at (a KeySet: memory stays flat, past SPILL_AT keys it moves to a
temporary file); referring collections then check each document against those keys as it
streams past. Two collections are read at a time, the biggest ready one first. References in a
cycle (a collection pointing at itself, say) cannot be ordered so: they are left to the caller.
"""
from __future__ import annotations

import bisect
import hashlib
import itertools
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument

from migration.engine.hashing import sort_key
from migration.engine.keyset import KeySet, exact_key

EXAMPLES = 5
READ_BATCH = 1000
RAW = CodecOptions(document_class=RawBSONDocument)


class Digest:
    """The sum (mod 2**256) of each document's sha256: independent of the order documents come
    back in, so no sort is needed (a sort makes FerretDB load the whole collection first)."""

    def __init__(self):
        self.total, self.count = 0, 0

    def add(self, raw: bytes) -> None:
        self.total += int.from_bytes(hashlib.sha256(raw).digest(), "big")
        self.count += 1

    def result(self) -> dict:
        return {"documents": self.count,
                "sha256": (self.total % 2 ** 256).to_bytes(32, "big").hex()}


class ReferenceCheck:
    """One declared reference, checked document by document on the referring side."""

    def __init__(self, ref):
        self.ref = ref
        self.key_fields = [ref.field] + ([ref.scope] if ref.scope else [])
        tscope = ref.resolved_target_scope
        self.target_fields = (ref.target_field,) + ((tscope,) if tscope else ())
        self.broken = 0
        self._smallest: list = []  # (sort key, tie-break, id) of the EXAMPLES smallest ids
        self._tie = itertools.count()

    def note_broken(self, doc_id) -> None:
        self.broken += 1
        entry = (sort_key(doc_id), next(self._tie), doc_id)
        if len(self._smallest) < EXAMPLES or entry < self._smallest[-1]:
            bisect.insort(self._smallest, entry)
            del self._smallest[EXAMPLES:]

    def problems(self) -> list:
        if not self.broken:
            return []
        ref = self.ref
        where = f" in the same {ref.scope}" if ref.scope else ""
        examples = ", ".join(str(doc_id) for _, _, doc_id in self._smallest)
        return [f"{ref.collection}.{ref.field}: {self.broken} document(s) refer to no "
                f"{ref.target}{where} (e.g. {examples})"]


def reading_order(collections, references) -> tuple:
    """(what each collection must wait for, the references left out because of a cycle)."""
    usable = [r for r in references if r.collection != r.target]
    edges: dict = {}
    for r in usable:
        edges.setdefault(r.collection, set()).add(r.target)
    # A reference is in a cycle when its target leads back to its collection.
    usable = [r for r in usable if r.collection not in _reachable(edges, r.target)]
    needs = {c: {r.target for r in usable if r.collection == c} for c in collections}
    return needs, [r for r in references if r not in usable]


def _reachable(edges, start) -> set:
    seen, todo = set(), [start]
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def scan_all(target_db, collections, references, sizes, workers: int = 2) -> tuple:
    """Reads every collection once. Returns ({collection: digest}, problems, left-out refs)."""
    needs, left_out = reading_order(collections, references)
    checks = [ReferenceCheck(r) for r in references if r not in left_out]
    keysets = {(c.ref.target, c.target_fields): KeySet() for c in checks}
    hashes: dict = {}
    pending, done, running = set(collections), set(), {}
    try:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            while pending or running:
                ready = sorted((c for c in pending if needs[c] <= done),
                               key=lambda c: (-sizes.get(c, 0), c))
                for name in ready[:workers - len(running)]:
                    pending.discard(name)
                    running[pool.submit(scan_collection, target_db[name], keysets, checks)] = name
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    name = running.pop(future)
                    hashes[name] = future.result()
                    done.add(name)
    finally:
        for keyset in keysets.values():
            keyset.close()
    problems = [p for check in checks for p in check.problems()]
    return {name: hashes[name] for name in sorted(hashes)}, problems, left_out


def scan_collection(collection, keysets, checks) -> dict:
    """Reads `collection` once: its digest, the keys it owes `keysets`, its `checks`."""
    name = collection.name
    builds = [(fields, keyset) for (target, fields), keyset in keysets.items()
              if target == name]
    mine = [(check, keysets[(check.ref.target, check.target_fields)]) for check in checks
            if check.ref.collection == name]
    digest = Digest()
    cursor = collection.with_options(codec_options=RAW).find({}, batch_size=READ_BATCH)
    try:
        for doc in cursor:
            digest.add(doc.raw)
            for fields, keyset in builds:
                keyset.add(exact_key([doc.get(f) for f in fields]))
            for check, keyset in mine:
                if doc.get(check.ref.field) is None:
                    continue  # absent or null: an optional reference left empty
                if exact_key([doc.get(f) for f in check.key_fields]) not in keyset:
                    check.note_broken(doc.get("_id"))
    finally:
        cursor.close()
    return digest.result()
