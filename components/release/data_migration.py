"""DataMigration: `python -m migration run` from the legacy database into the new one, during
`pulumi up`, after the backup.

It runs when the source, the target, the target step or the switch pass changes (a new pass
after the maintenance mode is on moves only the delta). `liveSource` (the switch's pre-copy,
while the legacy database still takes writes) verifies what the pass read; the delta pass, on
the frozen source, verifies everything. The legacy database is only read; the
target is a database beside it that the services use once the release flips `database.name`.
Database URIs travel in the command's (secret) environment, never on its command line. In
Docker mode the migration runs in a throw-away tools container on the stack's network, so the
database port is never published for it.
"""
from __future__ import annotations

import shlex
from pathlib import Path
from typing import Sequence

import pulumi

from commands.steps import (
    Server,
    migration_environment,
    migration_script,
    migration_step_command,
)
from components.release.backup import REPLAY_PREVIOUS_OUTPUT
from components.release.local_command import local_command
from config.locations import REPO_ROOT
from config.release_settings import MigrationSettings
from steps.protocol import result_of


def report_path(backup_dir: str, stack: str, settings: MigrationSettings) -> str:
    label = settings.pass_id or "initial"
    return str(Path(backup_dir) / stack / "migration-reports" /
               f"{settings.source_database}-to-{settings.target_database}-{label}.json")


def parse_result(stdout: str) -> dict:
    result = result_of(stdout)
    if result is None:
        raise ValueError("migration step printed no result")
    return result


class DataMigration(pulumi.ComponentResource):
    def __init__(self, name: str, *, stack: str, server: Server, settings: MigrationSettings,
                 backup_dir: str, depends_on: Sequence[pulumi.Resource] = (),
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("meeshy:migration:DataMigration", name, None, opts)
        report = report_path(backup_dir, stack, settings)
        argv = migration_step_command(
            server, migration_script("run", report_path=report, to_step=settings.to_step,
                                     live_source=settings.live_source,
                                     decisions=settings.decisions),
            report_path=report, timeout_seconds=settings.timeout_seconds)
        self.run = local_command(
            f"{name}-run",
            create=shlex.join(argv),
            update=REPLAY_PREVIOUS_OUTPUT,
            dir=str(REPO_ROOT),
            environment=pulumi.Output.secret(migration_environment(
                server, settings.source_database, settings.target_database)),
            # Another decision is another migration (what the target holds changes).
            triggers=[settings.source_database, settings.target_database,
                      settings.to_step or "", settings.pass_id,
                      *(f"{k}={v}" for k, v in sorted(settings.decisions.items()))],
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(depends_on)),
        )
        result = self.run.stdout.apply(parse_result)
        self.summary = result.apply(lambda r: r.get("summary", {}))
        self.report_path = result.apply(lambda r: r["report"])
        self.duration_seconds = result.apply(lambda r: r["durationSeconds"])
        self.register_outputs({"summary": self.summary, "reportPath": self.report_path,
                               "durationSeconds": self.duration_seconds,
                               "source": settings.source_database,
                               "target": settings.target_database})
