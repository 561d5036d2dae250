"""Progress kept in the target's `_migrations` collection, written after every batch.

    {_id: "run"}              the current pass: state running|done, --to, step ids, seq
    {_id: "progress:<src>"}   per driving collection: last source _id handled, counts, done
    {_id: "step:<id>"}        a step applied: when, by which pass, its counts
"""
from __future__ import annotations

import datetime as _dt

MIGRATIONS = "_migrations"
SEQ_GAP = 1000
COUNT_KEYS = ("documents", "written", "merged", "quarantined", "dropped", "primary_writes",
              "inserted", "replaced", "deleted", "unchanged")


def now():
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0)


def empty_counts() -> dict:
    return {key: 0 for key in COUNT_KEYS}


def load_run(target_db):
    return target_db[MIGRATIONS].find_one({"_id": "run"})


def begin_run(target_db, to, step_ids) -> tuple:
    """Returns (run document, resumed?): an interrupted pass is resumed, else a new one starts."""
    coll = target_db[MIGRATIONS]
    run = coll.find_one({"_id": "run"})
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


def load_progress(target_db, source: str):
    return target_db[MIGRATIONS].find_one({"_id": f"progress:{source}"})


def save_progress(target_db, source, step_id, last_id, counts, seq, done=False) -> None:
    target_db[MIGRATIONS].replace_one(
        {"_id": f"progress:{source}"},
        {"_id": f"progress:{source}", "source": source, "step": step_id, "last_id": last_id,
         "counts": counts, "done": done, "seq": seq, "updated_at": now()}, upsert=True)


def all_progress(target_db) -> list:
    return list(target_db[MIGRATIONS].find({"_id": {"$regex": "^progress:"}}).sort("_id", 1))


def mark_step(target_db, step, run_number: int) -> None:
    target_db[MIGRATIONS].replace_one(
        {"_id": f"step:{step.id}"},
        {"_id": f"step:{step.id}", "step": step.id, "previous": step.previous,
         "description": step.description, "applied_at": now(), "run": run_number},
        upsert=True)


def applied_steps(target_db) -> list:
    return list(target_db[MIGRATIONS].find({"_id": {"$regex": "^step:"}}))


def finish_run(target_db, verified: bool) -> None:
    seq = max([0] + [p.get("seq", 0) for p in all_progress(target_db)])
    target_db[MIGRATIONS].update_one(
        {"_id": "run"}, {"$set": {"state": "done", "finished_at": now(), "verified": verified,
                                  "seq": seq}})
