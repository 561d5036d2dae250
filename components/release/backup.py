"""MongoBackup: a `mongodump --archive --gzip` of one database into the stack's backup directory
(on the engine's host in Docker mode: the server's disk for an ssh:// engine).

Runs during `pulumi up` only (a command resource is never executed at preview), and only when
one of its triggers changes (release, target migration step, switch pass); any other change of
its inputs re-publishes the previous manifest instead of dumping again, so flipping the
database the services use never costs an extra dump inside the switch's maintenance window.
The manifest (archive path, sha256, size, per-collection counts and content hashes) comes from
steps.backup_run and becomes the outputs; retention keeps the newest N archives.
"""
from __future__ import annotations

import shlex
from typing import Any, Sequence

import pulumi

from commands.steps import Server, backup_command, tool_uri_environment
from components.release.local_command import local_command
from config.locations import REPO_ROOT
from config.release_settings import BackupSettings
from steps.protocol import result_of

# Replaying the previous stdout keeps the outputs of the backup that was really taken.
REPLAY_PREVIOUS_OUTPUT = 'printf "%s" "$PULUMI_COMMAND_STDOUT"'


def parse_manifest(stdout: str) -> dict:
    """The manifest JSON printed by steps.backup_run (its last non-empty line)."""
    manifest = result_of(stdout)
    if manifest is None:
        raise ValueError("backup printed no manifest")
    return manifest


def counts_of(manifest: dict) -> dict[str, int]:
    return {name: item["count"] for name, item in manifest["collections"].items()}


class MongoBackup(pulumi.ComponentResource):
    def __init__(self, name: str, *, stack: str, server: Server, database: str,
                 settings: BackupSettings, label: str, triggers: Sequence[Any],
                 depends_on: Sequence[pulumi.Resource] = (),
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("meeshy:backup:MongoBackup", name, None, opts)
        argv = backup_command(server, backup_dir=settings.directory, stack=stack,
                              database=database, label=label, retain=settings.retain,
                              timeout_seconds=settings.timeout_seconds)
        login_env = tool_uri_environment(server)   # a server with a login: its URL, secret
        self.dump = local_command(
            f"{name}-dump",
            create=shlex.join(argv),
            update=REPLAY_PREVIOUS_OUTPUT,
            dir=str(REPO_ROOT),
            environment=pulumi.Output.secret(login_env) if login_env else None,
            triggers=list(triggers),
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(depends_on)),
        )
        manifest = self.dump.stdout.apply(parse_manifest)
        self.backup_id = manifest.apply(lambda m: m["backupId"])
        self.archive_path = manifest.apply(lambda m: m["archive"])
        self.sha256 = manifest.apply(lambda m: m["sha256"])
        self.size_bytes = manifest.apply(lambda m: m["sizeBytes"])
        self.document_counts = manifest.apply(counts_of)
        self.database = manifest.apply(lambda m: m["database"])
        self.manifest = manifest
        self.register_outputs({
            "backupId": self.backup_id, "archivePath": self.archive_path, "sha256": self.sha256,
            "sizeBytes": self.size_bytes, "documentCounts": self.document_counts,
            "database": self.database,
        })
