"""The phases of a switch, as configurations: a pure function of the deployed and desired ones.

A switch that moves the services to the database a migration writes:
    backup-and-migrate  deployed config, new release id, migration pass `<op>-full`: backup of
                        the live (legacy) database, full migration into the new database, a
                        pre-copy (`liveSource`: production still takes writes, so it verifies
                        what it read and reports the source's growth)
    release             the desired config in maintenance, with the delta pass `<op>-delta` in
                        its window (`migration.window`), in one update: maintenance on (the
                        public hosts answer 503, no write comes in; the stack routes the page
                        before any data step), the migration of what changed since the full
                        pass, verified strictly (every source document accounted for), then the
                        new images on the new database (their containers start only after the
                        pass: Meeshy's gateway writes at boot), the schema check and the health
                        gate; the legacy database is frozen from here on: ops fingerprints it
                        when the window closes and archives it after (ops/switch/frozen.py),
                        and reads the new database's baseline once the pass is done (baseline.py)
    maintenance-off     the desired config as written (plus the passes ops set)
Any other switch (new images or settings on the same database):
    backup (maintenance on, then the backup pass `<op>`), release, maintenance-off.
The write-unavailability window runs from the start of the phase that turns maintenance on
(`opens_window`) to the end of maintenance-off. Maintenance goes on in the same update as the
first data step under it, and a switch's delta pass runs in the update of its release: each
update of its own cost the window an engine start (2 to 3 s here) and a tail (about 1.3 s).
Every phase takes the desired `backupDir`: a switch's backups go where the configuration it
applies says.
"""
from __future__ import annotations

from dataclasses import dataclass

from config import stack_edits as edit
from config.release_settings import ReleaseSettings
from config.stack_file import ConfigDoc


@dataclass(frozen=True)
class Phase:
    name: str
    doc: ConfigDoc
    snapshot: bool = False          # the state this phase leaves is a released state
    opens_window: bool = False      # turns maintenance on: writes may be refused from its start
    # Run with the policy pack. The release and maintenance-off apply the desired document with
    # only ops' values changed (maintenance, passes, the window's pass), which declare the same
    # Docker resources the pack judges (tests/unit/components/test_platform_graph.py); `switch`
    # checks the desired document with the pack before anything changes. The pack's start and
    # its stack check cost about 1 s of each such update, inside the window.
    policy_pack: bool = True
    backup_under_maintenance: bool = False
    # The database whose baseline ops reads once the phase's migration step is done (or after
    # the phase, when the step ran before it: a resumed switch), ops/switch/baseline.py.
    baseline_after: str | None = None
    fingerprint_database: str | None = None  # frozen from this phase on: fingerprinted, archived


def flips_to_migration_target(deployed: ReleaseSettings | None, desired: ReleaseSettings) -> bool:
    migration = desired.migration
    return (migration is not None and desired.live_database == migration.target_database
            and (deployed is None or deployed.live_database != migration.target_database))


PASS_PATHS = edit.PASS_PATHS


def _carry_passes(desired_doc: ConfigDoc, deployed_doc: ConfigDoc | None) -> ConfigDoc:
    """The desired config with the passes deployed, where the operator's file has none: passes
    are ops' bookkeeping, and dropping one would look like a new pass (a backup or migration
    run inside the maintenance window for nothing)."""
    doc = desired_doc.copy()
    if deployed_doc is None:
        return doc
    for path in PASS_PATHS:
        section = path.rsplit(".", 1)[0]
        value = deployed_doc.get_path(path)
        if value is not None and doc.get_path(path) is None and doc.get_path(section) is not None:
            doc.set_path(path, value)
    return doc


def _backups_where_desired(deployed_doc: ConfigDoc | None, desired_doc: ConfigDoc) -> ConfigDoc | None:
    """The deployed config with the desired `backupDir`: the backups a switch takes go where
    the configuration it applies says (the folder the operator checked and the next switch
    reads), not where the deployed one did."""
    if deployed_doc is None:
        return None
    folder = desired_doc.get_path(edit.key("backupDir"))
    return deployed_doc.with_values({edit.key("backupDir"): folder}) if folder else deployed_doc.copy()


def plan(deployed_doc: ConfigDoc | None, deployed: ReleaseSettings | None,
         desired_doc: ConfigDoc, desired: ReleaseSettings, op_id: str) -> list[Phase]:
    desired_doc = _carry_passes(desired_doc, deployed_doc)
    deployed_doc = _backups_where_desired(deployed_doc, desired_doc)
    on = edit.maintenance(True)
    final_maintenance = edit.maintenance(desired.maintenance)
    if flips_to_migration_target(deployed, desired):
        migration = desired.migration
        if deployed_doc is None:     # first deployment: start on the source database
            base = desired_doc.with_values({**edit.live_database(migration.source_database),
                                            **edit.maintenance(False)})
        else:
            base = deployed_doc.copy()
        full = {**edit.release(desired.release),
                **edit.migration_section(desired_doc, f"{op_id}-full", live_source=True)}
        delta_pass = edit.migration_pass(f"{op_id}-delta")
        migrate = base.with_values(full)
        release = desired_doc.with_values({**edit.migration_window(f"{op_id}-delta"), **on})
        final = desired_doc.with_values({**delta_pass, **final_maintenance})
        return [
            Phase("backup-and-migrate", migrate),
            Phase("release", release, opens_window=True, policy_pack=False,
                  fingerprint_database=migration.source_database,
                  baseline_after=migration.target_database),
            Phase("maintenance-off", final, snapshot=True, policy_pack=False),
        ]
    base = deployed_doc.copy() if deployed_doc is not None else desired_doc.with_values(
        edit.maintenance(False))
    backup_pass = edit.backup_pass(op_id)
    backup = base.with_values({**on, **edit.release(desired.release), **backup_pass})
    release = desired_doc.with_values({**backup_pass, **on})
    final = desired_doc.with_values({**backup_pass, **final_maintenance})
    return [
        Phase("backup", backup, opens_window=True, backup_under_maintenance=True),
        Phase("release", release, policy_pack=False),
        Phase("maintenance-off", final, snapshot=True, policy_pack=False),
    ]


def written_back(phases: list[Phase]) -> dict:
    """The values ops set that the stack file keeps after a successful switch, so the next
    plain `pulumi up` sees no change of trigger and dumps or migrates nothing by surprise."""
    return edit.passes(phases[-1].doc)
