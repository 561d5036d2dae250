"""The writes a rollback abandons: counted, archived, read back by id, and once the rollback is
healthy the abandoned database emptied when no released state uses it any more, so the next
switch's migration starts on an empty target.

    counted   the abandoned database against its baseline (post-migration baseline, or the
              backup under maintenance when it is the same database), per collection
    keptIn    a dump of the database (`take_backup`), its sha256 checked against its manifest
    readBack  the archive read by id against the same baseline: it must hold at least every
              insert and update counted (a write that came in between is in it too)
    dropped   when the abandoned database is its state's migration target and the rollback does
              not return to it: under maintenance, before the re-apply, dropped only if every
              document it holds is in the archive, byte for byte (steps.data_check drop), else
              left and said
"""
from __future__ import annotations

from pathlib import Path

from ops import data_ops


def keep(back) -> None:
    """Step 1 of the rollback (ops/switch/rollback.py): the abandoned writes, kept first."""
    abandoned = back.current.live_database
    reference = back.backups.get(abandoned)
    if abandoned == back.settings.live_database and abandoned not in back.baselines and not reference:
        back.report["abandonedWrites"] = {"database": abandoned, "counted": False, "abandoned": False,
                                          "why": "the rollback returns to this database: nothing "
                                                 "is abandoned"}
    elif reference and not reference.get("archive") and abandoned not in back.baselines:
        # A fingerprint under maintenance (frozen.py): nothing to count writes
        # against document by document; the digests compare the whole database.
        back.report["abandonedWrites"] = {"database": abandoned, "counted": False,
                                          "why": "only a fingerprint under maintenance is recorded: "
                                                 "compared with the database below"}
    elif abandoned in back.baselines or reference:
        back.report["abandonedWrites"] = _count_and_keep(back, abandoned, reference)
    else:
        back.report["abandonedWrites"] = {"database": abandoned, "counted": False,
                                          "why": "no backup or baseline recorded for it"}


def _count_and_keep(back, abandoned: str, reference: dict | None) -> dict:
    baseline = back.baselines.get(abandoned)
    counted = back.step("count-abandoned-writes", lambda: back.c.data.changes_since(
        back.server, abandoned, baseline_path=baseline,
        archive_path=None if baseline else reference["archive"], timeout=back.remaining()))
    entry = {"database": abandoned, **counted}
    if counted["changed"]:
        kept = back.step("keep-abandoned-writes", lambda: back.c.data.take_backup(
            back.server, back.settings, abandoned, f"{back.op_id}-abandoned",
            timeout=back.remaining()))
        entry["keptIn"] = kept["archive"]
        entry["readBack"] = back.step("read-back-abandoned-writes", lambda: read_back(
            kept, abandoned, baseline, None if baseline else reference["archive"], counted))
        back.log(f"  {counted['changed']} document(s) written to {abandoned} after the switch "
                 f"are abandoned by this rollback; kept in {kept['archive']} (read back by id)")
    return entry


def read_back(kept: dict, database: str, baseline: str | None, reference: str | None,
              counted: dict) -> dict:
    """The kept archive, checked against its manifest and read by id against the baseline."""
    from steps.data_check import archive_document_hashes, changes, read_baseline
    if not Path(kept["archive"]).is_file():    # a stand-in's archive (unit tests): nothing to read
        return {"verified": False, "why": f"{kept['archive']} is not a file"}
    data_ops.verify_archive(kept["archive"], kept.get("sha256"))
    before = (read_baseline(Path(baseline)) if baseline
              else archive_document_hashes(Path(reference), database))
    found = changes(before, archive_document_hashes(Path(kept["archive"]), database))
    short = {k: counted[k] - found[k] for k in ("inserted", "updated") if found[k] < counted[k]}
    if short:
        raise data_ops.DataOperationError(
            f"the archive of the abandoned writes {kept['archive']} lacks documents counted in "
            f"{database} ({short}): nothing was restored")
    return {"verified": True, "inserted": found["inserted"], "updated": found["updated"],
            "deleted": found["deleted"], "archive": kept["archive"]}


def to_empty(back) -> str | None:
    """The abandoned database, when it is the abandoned state's migration target and the state
    the rollback returns to does not use it: the next switch's migration rewrites it."""
    database = back.current.live_database
    migration = back.current.migration
    if database == back.settings.live_database or migration is None \
            or migration.target_database != database:
        return None
    return database


def empty(back, database: str) -> None:
    """Dropped only if every document it holds is in the kept archive (dumped now when no write
    was counted), else left as it is and said."""
    entry = back.report["abandonedWrites"]
    if entry.get("keptIn") is None:
        kept = back.step("keep-abandoned-database", lambda: back.c.data.take_backup(
            back.server, back.settings, database, f"{back.op_id}-abandoned",
            timeout=back.remaining()))
        entry["keptIn"] = kept["archive"]
        data_ops.verify_archive(kept["archive"], kept.get("sha256"), back.server)
    try:
        entry["dropped"] = back.step("empty-abandoned-database", lambda: back.c.data.drop_if_archived(
            back.server, database, entry["keptIn"], back.remaining()))
        back.log(f"  {database} emptied: all of it is in {entry['keptIn']}")
    except data_ops.DataOperationError as error:
        entry["dropped"] = {"dropped": False, "why": str(error)}
        back.log(f"  {database} left as it is: {error}")
