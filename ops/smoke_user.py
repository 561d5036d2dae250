"""The smoke user of a staging stack: a migrated user whose password only ops knows.

Staging's data is production's copy: nobody knows a migrated user's password. So `provision`
has ops/smoke_user.js, in a throw-away container of the stack's gateway image, pick an active
migrated user taking part in a conversation that has messages and give it a fresh random
password (hashed by the image's own bcrypt, as Meeshy stores it); `save` keeps the password in
ops' records of the stack (`smoke-user.json` beside its ledger, mode 0600; never in the ledger,
a report, a log or a command line). Production is refused: its users keep theirs.
`./meeshy smoke STACK --provision` (ops/smoke_verb.py) runs both; tests/e2e/test_real_gateway.py
provisions its user so.

`load` reads them back for `./meeshy smoke STACK`, or takes the user the environment names
(MEESHY_SMOKE_USERNAME and MEESHY_SMOKE_PASSWORD).
"""
from __future__ import annotations

import json
import os
import secrets
import subprocess
from dataclasses import dataclass
from pathlib import Path

from steps.prisma_read import PATH_IN_GATEWAY_IMAGE

FILE = "smoke-user.json"
PROTECTED_STACKS = ("production",)
USERNAME_ENV, PASSWORD_ENV = "MEESHY_SMOKE_USERNAME", "MEESHY_SMOKE_PASSWORD"


class SmokeUserError(RuntimeError):
    pass


PROGRAM = Path(__file__).with_name("smoke_user.js")
_PASSED = ("DATABASE_URL", "MEESHY_SMOKE_PASSWORD", "MEESHY_PRISMA_CLIENT")


@dataclass(frozen=True)
class SmokeUser:
    username: str
    password: str

    def __repr__(self) -> str:   # a traceback or a log of the object shows no password
        return f"SmokeUser(username={self.username!r}, password=***)"


@dataclass(frozen=True)
class Provisioned:
    user: SmokeUser
    user_id: str
    conversation_id: str    # one conversation of the user's that has messages


def provision(stack: str, image: str, database_url: str, *, network: str,
              docker_host: str | None = None, timeout: float = 300.0) -> Provisioned:
    """A chosen user of the database `database_url` names (the stack's migrated one) given a
    fresh random password, by ops/smoke_user.js in a throw-away container of the gateway image
    `image` on the stack's Docker network. The URL and the password travel in the container's
    environment (`--env NAME`, the value from ours), never on a command line."""
    if stack in PROTECTED_STACKS:
        raise SmokeUserError(f"refusing to set a smoke user's password on stack {stack!r}: "
                             "only a copy of production's data (staging) gets one")
    password = secrets.token_urlsafe(24)
    argv = ["docker", *(["--host", docker_host] if docker_host else []), "run", "--rm", "-i",
            "--network", network, "--entrypoint", "node",
            *(arg for name in _PASSED for arg in ("--env", name)), image, "-"]
    env = {**os.environ, "DATABASE_URL": database_url, "MEESHY_SMOKE_PASSWORD": password,
           "MEESHY_PRISMA_CLIENT": PATH_IN_GATEWAY_IMAGE}   # the real gateway image's client
    try:
        done = subprocess.run(argv, input=PROGRAM.read_text(), env=env, capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise SmokeUserError(f"giving a smoke user a password with {image} took over "
                             f"{timeout:.0f} s") from None
    said = (done.stderr.strip().splitlines() or ["(nothing on stderr)"])[-1]
    if done.returncode != 0:
        raise SmokeUserError(f"{image} could not give a smoke user a password (exit "
                             f"{done.returncode}): {_redacted(said, database_url, password)}")
    chosen = json.loads(done.stdout.strip().splitlines()[-1])
    return Provisioned(SmokeUser(chosen["username"], password), chosen["userId"],
                       chosen["conversationId"])


def _redacted(text: str, *secret_values: str) -> str:
    for value in secret_values:
        text = text.replace(value, "***")
    return text


def save(records: Path, user: SmokeUser) -> Path:
    """Written with mode 0600 from its creation (never readable by others, even briefly)."""
    records.mkdir(parents=True, exist_ok=True)
    path = records / FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump({"username": user.username, "password": user.password}, handle)
    os.chmod(path, 0o600)   # an older file keeps its mode through O_TRUNC
    return path


def load(records: Path, stack: str, environ=os.environ) -> SmokeUser:
    """The stack's recorded smoke user, or the one the environment names (both
    MEESHY_SMOKE_USERNAME and MEESHY_SMOKE_PASSWORD set: a stack refresh-staging did not
    provision, an account the operator knows; never a command-line argument)."""
    named, password = environ.get(USERNAME_ENV), environ.get(PASSWORD_ENV)
    if named and password:
        return SmokeUser(named, password)
    path = records / FILE
    if not path.is_file():
        raise SmokeUserError(f"no smoke user recorded for stack {stack!r} ({path}), and "
                             f"{USERNAME_ENV} and {PASSWORD_ENV} are not both set")
    if path.stat().st_mode & 0o077:
        raise SmokeUserError(f"{path} is readable by others (mode {path.stat().st_mode & 0o777:o}): "
                             "`chmod 600` it, or provision the smoke user again")
    try:
        data = json.loads(path.read_text())
        return SmokeUser(str(data["username"]), str(data["password"]))
    except (ValueError, KeyError, TypeError):
        raise SmokeUserError(f"{path} is not a smoke user's record") from None
