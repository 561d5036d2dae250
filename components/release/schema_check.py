"""SchemaCheck: before the new application containers serve, the data the services will use is
validated against the schema inside the gateway image about to start; a mismatch fails the
update, naming the model and field, and no old container is handed over. Outside maintenance
the new containers start only after it (Traefik routes a container once it is healthy); under
maintenance (a switch's release) they start beside it and the release gate waits for both
(components/platform/platform.py).

    copy      steps.image_schema on this host: `docker create` + `docker cp` of the schema file
              out of the image (never started) into <backupDir>/<stack>/schema-checks/ (on an
              ssh:// engine through a temporary file here, then written there on the server)
    validate  `python -m migration validate` of the database against that file, in the tools
              image on the stack's network (bounded in time by steps.migration_step)
    prisma    steps.prisma_read: every document read by the Prisma Client the image carries
              (its own generated client and query engine, run by the image's own node), in a
              throw-away container of the image on the stack's network; a document Prisma
              refuses fails it, naming model, field, Prisma's error code and a count

Inside a switch's window (the release after its delta pass) prisma reads only what the delta
wrote (`written_report`, the delta's migration report: steps.prisma_read --written); the whole
database was read on the pre-copy, outside the window (ops/switch/prisma_pre_read.py).

validate catches what Prisma lets pass (a string `_id` on an ObjectId id, a composite missing a
defaulted field) and names problems early in `plan`; prisma is the services' own reading.

Both run during `pulumi up` only, when the image or the database changes; the database URI
travels in the command's secret environment.
"""
from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any, Sequence

import pulumi

from commands.steps import (
    MIGRATION_TARGET_ENV,
    PRISMA_DATABASE_URL_ENV,
    DockerServer,
    Server,
    migration_step_command,
    prisma_read_command,
    schema_copy_command,
    schema_copy_script,
    schema_validate_script,
)
from components.release.backup import REPLAY_PREVIOUS_OUTPUT
from components.release.local_command import local_command
from config.docker_access import is_remote
from config.locations import REPO_ROOT
from migration.engine.validation.image_schema import DEFAULT_PATH_IN_IMAGE


def check_paths(backup_dir: str, stack: str, image: str, database: str) -> tuple[str, str]:
    """(schema file, report) of one image and database, named after both."""
    label = re.sub(r"[^A-Za-z0-9_.-]+", "_", image)
    folder = Path(backup_dir) / stack / "schema-checks"
    return str(folder / f"{label}.prisma"), str(folder / f"{database}-{label}.json")


def _last_json(stdout: str) -> dict:
    lines = [line for line in (stdout or "").splitlines() if line.strip()]
    if not lines:
        raise ValueError("schema check printed no result")
    return json.loads(lines[-1])


def prisma_summary(result: dict) -> dict:
    """What the release keeps of a Prisma read: version, counts, refusals (no values in any)."""
    keep = ("prisma", "documents", "refused", "unexamined", "refusals", "scope", "seconds", "ok")
    return {key: result[key] for key in keep if key in result}


class SchemaCheck(pulumi.ComponentResource):
    def __init__(self, name: str, *, stack: str, server: Server, image: str, database: str,
                 backup_dir: str, timeout_seconds: int, docker_host: str | None = None,
                 path_in_image: str = DEFAULT_PATH_IN_IMAGE, written_report: str | None = None,
                 depends_on: Sequence[pulumi.Resource] = (),
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("meeshy:release:SchemaCheck", name, None, opts)
        schema_file, report = check_paths(backup_dir, stack, image, database)
        triggers: list[Any] = [image, path_in_image, database]
        remote = isinstance(server, DockerServer) and is_remote(server.docker_host)
        self.copy = local_command(
            f"{name}-copy",
            create=(schema_copy_script(server, image, schema_file, path_in_image=path_in_image)
                    if remote else
                    shlex.join(schema_copy_command(image, schema_file, path_in_image=path_in_image,
                                                   docker_host=docker_host))),
            update=REPLAY_PREVIOUS_OUTPUT, dir=str(REPO_ROOT), triggers=triggers,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(depends_on)))
        validate = migration_step_command(
            server, schema_validate_script(schema_file=schema_file, report_path=report),
            report_path=report, timeout_seconds=timeout_seconds, env=(MIGRATION_TARGET_ENV,),
            files=(schema_file,))
        self.validate = local_command(
            f"{name}-validate",
            create=shlex.join(validate), update=REPLAY_PREVIOUS_OUTPUT, dir=str(REPO_ROOT),
            environment=pulumi.Output.secret({MIGRATION_TARGET_ENV: server.database_uri(database)}),
            triggers=triggers,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.copy, *depends_on]))
        self.prisma = local_command(
            f"{name}-prisma",
            create=shlex.join(prisma_read_command(server, image, deadline_seconds=timeout_seconds,
                                                  written_report=written_report)),
            update=REPLAY_PREVIOUS_OUTPUT, dir=str(REPO_ROOT),
            environment=pulumi.Output.secret(
                {PRISMA_DATABASE_URL_ENV: server.database_uri(database)}),
            triggers=triggers,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(depends_on)))
        self.checks = [self.validate, self.prisma]
        copied = self.copy.stdout.apply(_last_json)
        checked = self.validate.stdout.apply(_last_json)
        read = self.prisma.stdout.apply(_last_json)
        self.summary = pulumi.Output.all(copied, checked, read).apply(lambda v: {
            "image": image, "database": database, "schemaSha256": v[0]["sha256"],
            "report": v[1]["report"], "result": v[1].get("summary"),
            "prisma": prisma_summary(v[2])})
        self.register_outputs({"summary": self.summary})
