"""Progress kept in the target's `_migrations` collection, written after every batch.

    {_id: "run"}              the current pass: state running|done, --to, step ids, seq
    {_id: "progress:<src>"}   per driving collection: last source _id handled, counts, done
    {_id: "step:<id>"}        a step applied: when, by which pass, its counts
    {_id: "lease"}            the run holding the target (lease.py)

Records are checked as they are read: a damaged one is one sentence (exit 3), not a traceback.
"""
from __future__ import annotations

import datetime as _dt

from pymongo.errors import DuplicateKeyError

from migration.engine.errors import MigrationError

MIGRATIONS = "_migrations"
SEQ_GAP = 1000
COUNT_KEYS = ("documents", "written", "merged", "quarantined", "dropped", "primary_writes",
              "inserted", "replaced", "deleted", "unchanged")


_SHAPES = {
    "run": {"number": int, "state": str, "seq": int, "steps": list, "to": (str, type(None))},
    "progress": {"source": str, "counts": dict, "done": bool, "seq": int},
    "step": {"step": str},
}


class CorruptRecord(MigrationError):
    """A `_migrations` record that is not what this engine wrote; exit code 3."""
    exit_code = 3


def checked(doc, kind: str):
    """`doc` as read, once its fields have the types the engine relies on."""
    if doc is None:
        return None
    problem = _shape_problem(doc, kind)
    if problem:
        raise CorruptRecord(f"the target's _migrations record {doc.get('_id')!r} is damaged "
                            f"({problem}): restore the target from its backup or migrate into "
                            f"an empty database")
    return doc


def _shape_problem(doc, kind: str) -> str | None:
    for name, kind_type in _SHAPES[kind].items():
        value = doc.get(name)
        if not isinstance(value, kind_type) or (kind_type is int and isinstance(value, bool)):
            expected = getattr(kind_type, "__name__", "a step id or null")
            return f"{name} is {value!r}, expected {expected}"
    if kind == "run" and doc["state"] not in ("running", "done"):
        return f"state is {doc['state']!r}, expected 'running' or 'done'"
    if kind == "progress":
        for name in COUNT_KEYS:
            value = doc["counts"].get(name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                return f"counts.{name} is {value!r}, expected a count"
    return None


def now():
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0)


def empty_counts() -> dict:
    return {key: 0 for key in COUNT_KEYS}


def load_run(target_db):
    return checked(target_db[MIGRATIONS].find_one({"_id": "run"}), "run")


def begin_run(target_db, to, step_ids) -> tuple:
    """Returns (run document, resumed?): an interrupted pass is resumed, else a new one starts."""
    coll = target_db[MIGRATIONS]
    run = load_run(target_db)
    # Ledger sequence numbers only grow, across runs too (the ledger resolves overlaps by them).
    # A killed run may have used a few numbers past its last checkpoint (writes lag the
    # transforms by a couple of batches): jump well past them.
    seq = max([(run or {}).get("seq", 0)] + [p.get("seq", 0) for p in all_progress(target_db)])
    seq += SEQ_GAP
    if run is not None and run.get("state") == "running":
        coll.update_one({"_id": "run"}, {"$set": {"resumed_at": now(), "to": to,
                                                   "steps": step_ids, "seq": seq}})
        return coll.find_one({"_id": "run"}), True
    number = (run or {}).get("number", 0) + 1
    coll.delete_many({"_id": {"$regex": "^progress:"}})
    run = {"_id": "run", "state": "running", "number": number, "to": to, "steps": step_ids,
           "started_at": now(), "seq": seq}
    coll.replace_one({"_id": "run"}, run, upsert=True)
    return run, False


def save_progress(target_db, source, step_id, last_id, counts, seq, done=False,
                  fence: int | None = None) -> bool:
    """False when a run holding a later fence (lease.py) wrote this record: the write is
    conditional on it in the same command, so a taken-over run cannot overwrite its successor's
    checkpoint (the upsert's insert of an existing _id fails instead)."""
    key = f"progress:{source}"
    doc = {"_id": key, "source": source, "step": step_id, "last_id": last_id,
           "counts": counts, "done": done, "seq": seq, "updated_at": now()}
    where: dict = {"_id": key}
    if fence is not None:
        doc["fence"] = fence
        where["$or"] = [{"fence": {"$lte": fence}}, {"fence": {"$exists": False}}]
    try:
        target_db[MIGRATIONS].replace_one(where, doc, upsert=True)
    except DuplicateKeyError:
        return False
    return True


def all_progress(target_db) -> list:
    return [checked(doc, "progress") for doc in
            target_db[MIGRATIONS].find({"_id": {"$regex": "^progress:"}}).sort("_id", 1)]


def mark_step(target_db, step, run_number: int) -> None:
    target_db[MIGRATIONS].replace_one(
        {"_id": f"step:{step.id}"},
        {"_id": f"step:{step.id}", "step": step.id, "previous": step.previous,
         "description": step.description, "applied_at": now(), "run": run_number},
        upsert=True)


def applied_steps(target_db) -> list:
    return [checked(doc, "step")
            for doc in target_db[MIGRATIONS].find({"_id": {"$regex": "^step:"}})]


def finish_run(target_db, verified: bool, hashes=None, provisional: bool = False) -> None:
    """`hashes`: the verification's per-collection digests; their counts are what the next
    run compares the target with (guards.py), as a list (FerretDB refuses dotted keys).
    `provisional`: a pre-copy of a live source (migration/engine/verification/live_source.py),
    verified for what it read only: a strict run must follow before the target is trusted."""
    seq = max([0] + [p.get("seq", 0) for p in all_progress(target_db)])
    counts = [{"c": name, "n": digest["documents"]} for name, digest in (hashes or {}).items()]
    target_db[MIGRATIONS].update_one(
        {"_id": "run"}, {"$set": {"state": "done", "finished_at": now(), "verified": verified,
                                  "seq": seq, "target_counts": counts,
                                  "provisional": provisional}})


def recorded_counts(run) -> dict | None:
    """Documents per target collection when the run finished (None: not recorded)."""
    counts = run.get("target_counts") if run else None
    if not isinstance(counts, list):
        return None
    return {item.get("c"): item.get("n", 0) for item in counts if isinstance(item, dict)}
