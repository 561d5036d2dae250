"""The four verbs on open databases: what the CLI calls and what tests drive directly."""
from __future__ import annotations

import time

from migration.engine.errors import ConfigError
from migration.engine.planner import plan as _plan
from migration.engine.planner import schema_problems
from migration.engine.process import QUARANTINE
from migration.engine.runner import Runner
from migration.engine.sources import BATCH_SIZE
from migration.engine.target import checkpoint, guards
from migration.engine.target.lease import LEASE_SECONDS, Lease, holder
from migration.engine.verification.verify import verify as _verify


def check_against_schema(chain, validator) -> None:
    """Every collection the chain writes must have a model: all the missing ones at once."""
    problems = schema_problems(chain, validator.schema)
    if problems:
        raise ConfigError(f"the schema {validator.schema.path} cannot hold what the chain writes "
                          f"({len(problems)} problem{'s' if len(problems) > 1 else ''}):\n  - "
                          + "\n  - ".join(problems))


def plan(source_db, chain, validator, target_db=None, batch_size=BATCH_SIZE,
         progress=None) -> dict:
    check_against_schema(chain, validator)
    started = time.monotonic()
    report = _plan(source_db, chain, validator, target_db, batch_size, progress)
    report.update(command="plan", seconds=round(time.monotonic() - started, 3))
    return report


def run(source_db, target_db, chain, validator, to=None, batch_size=BATCH_SIZE,
        progress=None, allow_empty_source=False,
        max_quarantine_ratio=guards.MAX_QUARANTINE_RATIO, lease_seconds=LEASE_SECONDS,
        live_source=False) -> dict:
    """`live_source`: a pre-copy of a source that still takes writes, verified for what it read
    and recorded as provisional (live_source.py); a strict run on the frozen source follows."""
    check_against_schema(chain, validator)
    chain.up_to(to)
    guards.check_source(source_db, chain, allow_empty_source)
    guards.check_target(target_db, chain, to)  # refused without even a lease written
    started = time.monotonic()
    lease = Lease(target_db, lease_seconds).acquire()
    try:
        guards.check_target(target_db, chain, to)  # again: another run may have written since
        runner = Runner(source_db, target_db, chain, validator, to, batch_size, progress, lease)
        outcome = runner.run()
        migrated = time.monotonic()
        verification = _verify(source_db, target_db, chain, validator.schema, runner.steps,
                               live_source=live_source)
        verification["problems"] = (outcome["index_problems"] + verification["problems"]
                                    + guards.quarantine_problems(outcome["collections"],
                                                                 max_quarantine_ratio))
        verification["ok"] = not verification["problems"]
        with lease.window():
            checkpoint.finish_run(target_db, verification["ok"], verification["hashes"],
                                  provisional=live_source)
    finally:
        lease.release()
    return {"command": "run", "run": outcome["run"], "resumed": outcome["resumed"],
            "to": to, "steps": [s.id for s in runner.steps], "lease": lease.took_over,
            "live_source": live_source,
            "collections": outcome["collections"], "written": outcome["written"],
            "quarantine": quarantine_listing(target_db),
            "verification": verification, "ok": verification["ok"],
            "seconds": round(time.monotonic() - started, 3),
            "migrate_seconds": round(migrated - started, 3),
            "verify_seconds": round(time.monotonic() - migrated, 3)}


def verify(source_db, target_db, chain, validator,
           max_quarantine_ratio=guards.MAX_QUARANTINE_RATIO) -> dict:
    started = time.monotonic()
    verification = _verify(source_db, target_db, chain, validator.schema)
    uncovered = guards.uncovered_problem(source_db, chain)
    progress = {p["source"]: p["counts"] for p in checkpoint.all_progress(target_db)}
    verification["problems"] = ([uncovered] if uncovered else []) + verification["problems"] \
        + guards.quarantine_problems(progress, max_quarantine_ratio)
    verification["ok"] = not verification["problems"]
    return {"command": "verify", "verification": verification, "ok": verification["ok"],
            "seconds": round(time.monotonic() - started, 3)}


def status(target_db, chain=None) -> dict:
    run_doc = checkpoint.load_run(target_db)
    steps = {d["step"]: d for d in checkpoint.applied_steps(target_db)}
    order = chain.step_ids() if chain is not None else sorted(steps)
    applied = [{"step": sid, "applied_at": steps[sid]["applied_at"], "run": steps[sid]["run"],
                "description": steps[sid].get("description")}
               for sid in order if sid in steps]
    pending = [sid for sid in order if sid not in steps]
    progress = [{"source": p["source"], "step": p["step"], "done": p["done"],
                 "documents": p["counts"]["documents"], "last_id": p.get("last_id")}
                for p in checkpoint.all_progress(target_db)]
    return {"command": "status", "applied": applied, "pending": pending,
            "run": {k: run_doc.get(k) for k in ("number", "state", "to", "started_at",
                                                 "finished_at", "verified", "provisional")}
            if run_doc else None,
            "progress": progress, "lease": holder(target_db), "ok": True}


def quarantine_listing(target_db, limit: int = 1000) -> dict:
    coll = target_db[QUARANTINE]
    listed = [{"collection": d["collection"], "id": d["sourceId"], "reason": d["reason"]}
              for d in coll.find({}, {"document": 0}, sort=[("_id", 1)]).limit(limit)]
    return {"documents": coll.count_documents({}), "listed": listed}
