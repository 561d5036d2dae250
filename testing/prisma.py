"""Prisma Client 6.19 on this host, for tests, the bench and rehearsals: a client generated for
a schema (tools/prisma-generate.sh, with the query engine tools/build-prisma.sh built) and a read
of a whole database with it (steps.prisma_read, the program the release runs in the gateway
image). The planted faults are the documents Prisma refuses, one per kind."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from steps.prisma_read import DATABASE_URL_ENV

REPO_ROOT = Path(__file__).resolve().parents[1]


class PrismaUnavailable(RuntimeError):
    """Prisma Client cannot be generated here (the engine is not built): the message says how."""


def generate_client(schema: Path, timeout: float = 300) -> Path:
    """The directory of a client generated for `schema` (cached by the schema's hash)."""
    done = subprocess.run(["bash", str(REPO_ROOT / "tools/prisma-generate.sh"), str(schema)],
                          capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise PrismaUnavailable(done.stderr.strip() or "tools/prisma-generate.sh failed")
    return Path(done.stdout.strip().splitlines()[-1])


@dataclass
class PrismaRead:
    code: int            # steps.prisma_read's exit code: 0 read, 3 refused, 1 failed
    result: dict | None  # its JSON result (None when it failed)
    stderr: str

    def refused(self) -> set[tuple[str, str, str]]:
        """(model, field, code) of every refusal."""
        return {(r["model"], r["field"], r["code"]) for r in (self.result or {}).get("refusals", [])}


def read_database(client: Path, database_uri: str, *, models: tuple[str, ...] = (),
                  written: Path | None = None, deadline: float = 600) -> PrismaRead:
    """Every document of the database at `database_uri` (with its name) read by `client`; only
    those a migration pass wrote when `written` is its report."""
    argv = [sys.executable, "-m", "steps.prisma_read", "--client", str(client),
            "--deadline", str(deadline)]
    if models:
        argv += ["--models", ",".join(models)]
    if written:
        argv += ["--written", str(written)]
    done = subprocess.run(argv, cwd=REPO_ROOT, capture_output=True, text=True,
                          env={**os.environ, DATABASE_URL_ENV: database_uri}, timeout=deadline + 60)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    return PrismaRead(done.returncode, json.loads(lines[-1]) if lines else None, done.stderr)


# kind -> (model, collection, field, the change that makes one document wrong for Prisma)
FAULTS = {
    "required field missing": ("User", "User", "username", {"$unset": {"username": ""}}),
    "value outside its enum": ("User", "User", "role", {"$set": {"role": "EMPEROR"}}),
    "Int stored as a string": ("User", "User", "failedLoginAttempts",
                               {"$set": {"failedLoginAttempts": "3"}}),
    "DateTime stored as a string": ("Participant", "Participant", "joinedAt",
                                    {"$set": {"joinedAt": "2026-01-25T00:00:00Z"}}),
    "required composite missing": ("Participant", "Participant", "permissions",
                                   {"$unset": {"permissions": ""}}),
}


def plant(db, kind: str, skip: int = 0) -> tuple[str, str]:
    """Makes one document of a migrated database wrong in the way `kind` says; (model, field)."""
    model, collection, field, change = FAULTS[kind]
    victim = db[collection].find({}, {"_id": 1}).sort("_id", 1).skip(skip).limit(1).next()
    db[collection].update_one({"_id": victim["_id"]}, change)
    return model, field
