"""The smoke user of a staging stack: a migrated user whose password only ops knows.

Staging's data is production's copy: nobody knows a migrated user's password. So `provision`
picks an active migrated user taking part in a conversation that has messages, gives it a fresh
random password (hashed by the caller's bcrypt: the gateway's own, as Meeshy stores it), and
`save` keeps the password in ops' records of the stack (`smoke-user.json` beside its ledger,
mode 0600; never in the ledger, a report, a log or a command line). Production is refused: its
users keep theirs. tests/e2e/test_real_gateway.py provisions its user so; refresh-staging does
not call it yet (docs/runbook.md, "The smoke check", says what is left).

`load` reads them back for `./meeshy smoke STACK` (ops/smoke_verb.py), or takes the user the
environment names (MEESHY_SMOKE_USERNAME and MEESHY_SMOKE_PASSWORD).
"""
from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

FILE = "smoke-user.json"
PROTECTED_STACKS = ("production",)
USERNAME_ENV, PASSWORD_ENV = "MEESHY_SMOKE_USERNAME", "MEESHY_SMOKE_PASSWORD"


class SmokeUserError(RuntimeError):
    pass


@dataclass(frozen=True)
class SmokeUser:
    username: str
    password: str

    def __repr__(self) -> str:   # a traceback or a log of the object shows no password
        return f"SmokeUser(username={self.username!r}, password=***)"


def choose(db) -> tuple[dict, dict]:
    """(User, Participant): an active user taking part in a conversation that has messages, who
    may post there (so a test may also post as it)."""
    for participant in db.Participant.find({"type": "user", "isActive": True}).sort("_id", 1):
        user = db.User.find_one({"_id": participant.get("userId"), "isActive": True,
                                 "username": {"$type": "string"}})
        may_post = (participant.get("permissions") or {}).get("canSendMessages") is not False
        if user and may_post and db.Message.count_documents(
                {"conversationId": participant["conversationId"]}, limit=1):
            return user, participant
    raise SmokeUserError("no active user takes part in a conversation with messages: "
                         "the smoke check has nobody to log in as")


def provision(stack: str, db, bcrypt_hash: Callable[[str], str]) -> SmokeUser:
    """A chosen user of `db` (the stack's migrated database) given a fresh random password."""
    if stack in PROTECTED_STACKS:
        raise SmokeUserError(f"refusing to set a smoke user's password on stack {stack!r}: "
                             "only a copy of production's data (staging) gets one")
    user, _ = choose(db)
    password = secrets.token_urlsafe(24)
    db.User.update_one({"_id": user["_id"]}, {"$set": {"password": bcrypt_hash(password)}})
    return SmokeUser(user["username"], password)


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
