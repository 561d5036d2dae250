"""What `run` refuses before its first write (and `verify` before it reports OK).

- a source collection no rule covers (it would be lost silently);
- an empty or missing source database (a mistyped name would hand over an empty target),
  unless the caller says it is expected;
- a target holding documents this migration did not write: any document when no run is
  recorded there; a collection the chain never writes; more documents in a written collection
  than the last finished run left (its counts are kept in `_migrations`);
- `--to` an earlier step than the target already has: the later steps would stay applied.
"""
from __future__ import annotations

from migration.engine.errors import ConfigError, CoverageError
from migration.engine.planner import source_collections, uncovered_collections
from migration.engine.process import QUARANTINE
from migration.engine.runner import written_collections
from migration.engine.target import checkpoint
from migration.engine.target.ledger import LEDGER
from migration.engine.verification.verify import metadata_count

SHOWN = 10  # collections named in a refusal
# Above this share of quarantined documents a collection fails the run: a broken rule or
# a wrong source, not a few defects (1.0 turns the check off).
MAX_QUARANTINE_RATIO = 0.5


def uncovered_problem(source_db, chain) -> str | None:
    names = uncovered_collections(source_db, chain)
    if not names:
        return None
    return (f"source collection(s) {', '.join(names[:SHOWN])} of {source_db.name} are neither "
            f"migrated nor dropped by any rule of the chain: they would be lost")


def check_source(source_db, chain, allow_empty: bool) -> None:
    problem = uncovered_problem(source_db, chain)
    if problem:
        raise CoverageError(f"{problem}; nothing was written")
    if allow_empty:
        return
    names = source_collections(source_db)
    if not any(metadata_count(source_db[name]) for name in names):
        state = "has no collections" if not names else "holds no documents"
        raise CoverageError(f"the source database {source_db.name} {state}: a mistyped name? "
                            f"nothing was written (--allow-empty-source migrates it anyway)")


def check_target(target_db, chain, to) -> None:
    """Refuses a target this run must not write into; reads metadata counts only."""
    run = checkpoint.load_run(target_db)
    _check_lower_step(target_db, chain, to)
    bookkeeping = {checkpoint.MIGRATIONS, QUARANTINE}
    written = set(written_collections(chain.steps))
    foreign = []
    recorded = checkpoint.recorded_counts(run) if run and run.get("state") == "done" else None
    for name in sorted(target_db.list_collection_names()):
        if name.startswith("system.") or name.startswith(LEDGER + "."):
            continue
        if name == checkpoint.MIGRATIONS:
            continue  # the lease lives there before the first run
        ours = run is not None and (name in written or name in bookkeeping)
        if ours and recorded is None:
            continue  # a run to resume: its writes ran ahead of its checkpoint
        allowed = recorded.get(name, 0) if ours else 0
        count = metadata_count(target_db[name])
        if count > allowed and target_db[name].count_documents({}) > allowed:
            foreign.append(f"{name} ({count - allowed} document(s))" if allowed
                           else f"{name} ({count})")
    if foreign:
        where = ("holds documents this migration did not write" if run is not None
                 else "is not empty and has no migration recorded")
        raise CoverageError(f"the target database {target_db.name} {where}: "
                            f"{', '.join(foreign[:SHOWN])}; nothing was written (migrate into "
                            f"an empty database, or remove those documents)")


def _check_lower_step(target_db, chain, to) -> None:
    if to is None:
        return
    wanted = {step.id for step in chain.up_to(to)}
    later = [d["step"] for d in checkpoint.applied_steps(target_db) if d["step"] not in wanted]
    if later:
        raise ConfigError(f"--to {to}: the target already has step(s) {', '.join(sorted(later))} "
                          f"applied, which a run cannot undo; migrate into an empty database "
                          f"to stop at {to}")


def quarantine_problems(counts_by_source: dict, ratio: float) -> list:
    """Collections whose quarantined share is above `ratio` (`counts_by_source`: source ->
    counts with `documents` and `quarantined`)."""
    problems = []
    for source, counts in sorted(counts_by_source.items()):
        total, bad = counts.get("documents", 0), counts.get("quarantined", 0)
        if total and bad / total > ratio:
            problems.append(f"{source}: {bad} of {total} documents ({bad / total:.0%}) were "
                            f"quarantined, above --max-quarantine-ratio {ratio:g}: a broken rule "
                            f"or a wrong source, not a few defects")
    return problems
