"""`run`: every step up to --to, batch by batch, checkpointed, then indexes and verification."""
from __future__ import annotations

import contextlib
import hashlib

from migration.engine.deadlines import guarded, operation
from migration.engine.errors import CoverageError
from migration.engine.model import CollectionRule, DropCollection
from migration.engine.pipeline import Prefetch, WriteBehind
from migration.engine.process import QUARANTINE, Processor
from migration.engine.sources import BATCH_SIZE, ChildMerger, build_lookup, check_id
from migration.engine.target import checkpoint
from migration.engine.target.indexes import ensure_indexes, indexed_collections
from migration.engine.target.ledger import LEDGER, LedgerReader, id_token
from migration.engine.target.writer import apply_batch
from migration.engine.target.written import WrittenIds

MAX_BATCH_FACTOR = 4


def producers_by_collection(chain) -> dict:
    """Which driving collections may write each target collection (for shared documents)."""
    producers: dict = {}
    for rule in chain.rules():
        if isinstance(rule, CollectionRule):
            for collection in {rule.target, *rule.also_writes}:
                producers.setdefault(collection, set()).add(rule.source)
            producers.setdefault(QUARANTINE, set()).add(rule.source)
    return producers


def written_collections(steps) -> list:
    names = set()
    for step in steps:
        for rule in step.rules:
            if isinstance(rule, CollectionRule):
                names.update({rule.target, *rule.also_writes})
    return sorted(names)


def stable_batches(collection, after=None, batch_size: int = BATCH_SIZE):
    """Batches of documents in _id order whose boundaries depend on the ids, not on where the
    pass started: a resumed or repeated pass cuts the same batches, so an unchanged batch
    finds its ledger document identical and costs no write."""
    query = {"_id": {"$gt": after}} if after is not None else {}
    cursor = collection.find(query, sort=[("_id", 1)], batch_size=min(batch_size, 1000))
    batch: list = []
    try:
        for doc in cursor:
            check_id(collection.name, doc)
            batch.append(doc)
            if _is_boundary(doc.get("_id"), batch_size) or \
                    len(batch) >= batch_size * MAX_BATCH_FACTOR:
                yield batch
                batch = []
        if batch:
            yield batch
    finally:
        cursor.close()


def _is_boundary(doc_id, batch_size: int) -> bool:
    digest = hashlib.blake2b(id_token(doc_id).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % batch_size == 0


def _lookup_key(lookup) -> tuple:
    return (lookup.collection, repr(lookup.key), repr(lookup.value), id(lookup.combine),
            repr(sorted((lookup.where or {}).items())), lookup.name)


class Runner:
    def __init__(self, source_db, target_db, chain, validator, to=None,
                 batch_size: int = BATCH_SIZE, progress=None, lease=None):
        self.source_db, self.target_db = source_db, target_db
        self.chain, self.validator = chain, validator
        self.steps = chain.up_to(to)
        self.to = to
        self.batch_size = batch_size
        self.progress = progress
        self.lease = lease
        self.producers = producers_by_collection(chain)
        self._lookups: dict = {}
        self.written = WrittenIds()

    def run(self) -> dict:
        with self._window():  # a run stalled since it took the lease must not reset the records
            run, resumed = checkpoint.begin_run(self.target_db, self.to,
                                                [s.id for s in self.steps])
        checkpoint.all_progress(self.target_db)   # a damaged record is refused before any write
        self.seq = run.get("seq", 0)
        if resumed:   # what the interrupted part wrote is current now, and not listed
            self.written.incomplete()
        self.ledgers = {n for n in self.target_db.list_collection_names()
                        if n.startswith(LEDGER + ".")}
        collections = {}
        rules = [(step, rule) for step in self.steps for rule in step.rules]
        last_use = {}
        for index, (_, rule) in enumerate(rules):
            for lookup in getattr(rule, "lookups", ()):
                last_use[_lookup_key(lookup)] = index
        index = 0
        for step in self.steps:
            for rule in step.rules:
                collections[rule.source] = self._rule(step, rule)
                for key in [k for k, last in last_use.items() if last == index]:
                    built = self._lookups.pop(key, None)  # no later rule needs it: free it
                    if built is not None:
                        built.close()
                index += 1
            with self._window():
                checkpoint.mark_step(self.target_db, step, run["number"])
        schema = self.validator.schema
        self._claim()  # index builds take as long as they take: claimed, not bounded (README)
        index_problems = ensure_indexes(self.target_db, schema, indexed_collections(
            schema, written_collections(self.steps), written_collections(self.chain.steps)))
        return {"run": run["number"], "resumed": resumed, "collections": collections,
                "index_problems": index_problems, "written": self.written.report()}

    def _rule(self, step, rule) -> dict:
        # A resumed run passes over every collection again, from its first document: the
        # source may have changed since the interrupted run read it (in a batch it finished,
        # in a collection it completed), and trusting its checkpoint would miss those edits.
        # The ledger keeps this cheap: a batch the interrupted run wrote costs one comparison.
        counts = checkpoint.empty_counts()
        after = None
        if isinstance(rule, DropCollection):
            counts["documents"] = counts["dropped"] = \
                self.source_db[rule.source].count_documents({})
            self._claim()
            self._checkpoint(rule.source, step.id, None, counts, self.seq, True)
            return self._summary(step, rule, counts)
        self._pass(step, rule, counts, after)
        return self._summary(step, rule, counts)

    def _pass(self, step, rule, counts, after) -> None:
        lookups = {lk.name: self._lookup(lk) for lk in rule.lookups}
        processor = Processor(rule, self.validator, lookups)
        mergers = {c.name: ChildMerger(self.source_db, c, after=after) for c in rule.children}
        reader = LedgerReader(self.target_db, rule.source, after=after,
                              empty=f"{LEDGER}.{rule.source}" not in self.ledgers)
        task = self.progress.start(rule.source, self.source_db[rule.source]) \
            if self.progress else None
        batches = Prefetch(guarded(stable_batches(self.source_db[rule.source], after,
                                                  self.batch_size),
                                   f"reading {rule.source} from the source", self.source_db))
        writes = WriteBehind()
        # The main thread's counts run ahead of the writes: each checkpoint gets a snapshot
        # of them as of its own batch, merged with the write counts the writer thread keeps.
        write_counts = {k: counts[k] for k in ("inserted", "replaced", "deleted", "unchanged")}
        try:
            for batch in batches:
                self._check_fields(rule, processor, batch)
                results = [processor.process(doc, {n: m.take(doc["_id"])
                                                   for n, m in mergers.items()})
                           for doc in batch]
                for result in results:
                    counts["documents"] += 1
                    counts[result.status] += 1
                    counts["primary_writes"] += result.primary_writes
                old_entries, consumed = reader.take_upto(batch[-1]["_id"])
                self.seq += 1
                writes.submit(self._batch_job(step, rule, results, old_entries, consumed,
                                              reader, dict(counts), write_counts,
                                              batch[-1]["_id"], self.seq))
                if task is not None:
                    self.progress.advance(task, len(batch))
            old_entries, consumed = reader.take_upto(until_end=True)
            writes.submit(self._batch_job(step, rule, [], old_entries, consumed, reader,
                                          dict(counts), write_counts, None, self.seq,
                                          done=True))
            writes.finish()
            counts.update(write_counts)
        finally:
            batches.close()
            reader.close()
            for merger in mergers.values():
                merger.close()
            if task is not None:
                self.progress.finish(task)

    def _batch_job(self, step, rule, results, old_entries, consumed, reader, status_counts,
                   write_counts, last_id, seq, done=False):
        carried = frozenset(t for entry in reader.carried() for t in entry.targets)
        excluded = [doc_id for doc_id, _ in consumed] + reader.open_doc_ids()

        upto = f"up to source id {last_id}" if last_id is not None else "at the end of its pass"
        what = f"writing what {rule.source} produced {upto} into the target"

        def job():
            # Each write command inside a window of the lease; the checkpoint after a claim
            # that closes the window (nothing in flight), fenced in its own write (lease.py).
            with operation(what, self.target_db):
                if results or old_entries or consumed:
                    apply_batch(self.target_db, rule.source, results, old_entries, consumed,
                                carried, excluded, seq, self.producers, write_counts,
                                window=self._window, written=self.written)
                self._claim()
                self._checkpoint(rule.source, step.id, last_id, {**status_counts, **write_counts},
                                 seq, done)
        return job

    def _checkpoint(self, source, step_id, last_id, counts, seq, done) -> None:
        fence = self.lease.fence if self.lease is not None else None
        if not checkpoint.save_progress(self.target_db, source, step_id, last_id, counts, seq,
                                        done=done, fence=fence):
            self.lease.fenced_out()

    def _claim(self) -> None:
        if self.lease is not None:
            self.lease.claim()

    def _window(self):
        return self.lease.window() if self.lease is not None else contextlib.nullcontext()

    def _lookup(self, lookup):
        """Built once per run: several rules often declare the same lookup."""
        key = _lookup_key(lookup)
        if key not in self._lookups:
            with operation(f"building lookup {lookup.name} from {lookup.collection}",
                           self.source_db):
                self._lookups[key] = build_lookup(self.source_db, lookup)
        return self._lookups[key]

    @staticmethod
    def _check_fields(rule, processor, batch) -> None:
        for doc in batch:
            unknown = processor.unknown_fields(doc)
            if unknown:
                raise CoverageError(
                    f"source field(s) {', '.join(sorted(unknown))} of {rule.source} (document "
                    f"{doc.get('_id')}) are neither mapped nor dropped by its rule; nothing of "
                    f"this batch was written")

    @staticmethod
    def _summary(step, rule, counts) -> dict:
        target = rule.target if isinstance(rule, CollectionRule) else None
        return {"step": step.id, "source": rule.source, "target": target,
                "reason": getattr(rule, "reason", None), **counts}
