"""The rehearsal's posting users as real users of Meeshy's gateway: each gets a login.

The legacy dataset is generated, so nobody knows a user's password. Before the switch, each
posting user (ops/rehearse/load.py `posters`) is given a fresh random password in the legacy
database, hashed with bcrypt as Meeshy stores passwords (`$2b$10$...`); the migration carries
the hash, and after the switch the load logs in through the real gateway's API with it, as a
user would. The passwords stay in the rehearsal's memory: never in a report, a log, a file or
a command line.

The gateway limits logins to 5 attempts per 15 minutes per (client address, first three
characters of the username), and every request of the load reaches it from Traefik's one
address: the chosen users' usernames start differently, so each user's few logins are its own.
"""
from __future__ import annotations

import secrets

import bcrypt
from bson import ObjectId

LOGIN_KEY_CHARACTERS = 3    # the gateway's login limiter keys on this much of the username
MAX_ACCOUNTS = 6


class Accounts(dict):
    """user id (str) -> (username, password); its repr shows no password."""

    def __repr__(self) -> str:
        return f"Accounts({sorted(name for name, _ in self.values())})"


def distinct_logins(db, pairs: list[tuple[ObjectId, ObjectId]],
                    limit: int = MAX_ACCOUNTS) -> list[tuple[ObjectId, ObjectId]]:
    """The pairs whose users' usernames start differently (the login limiter's key)."""
    chosen, prefixes = [], set()
    for conversation, user in pairs:
        person = db.User.find_one({"_id": user}, {"username": 1}) or {}
        name = person.get("username")
        if not isinstance(name, str) or name[:LOGIN_KEY_CHARACTERS] in prefixes:
            continue
        prefixes.add(name[:LOGIN_KEY_CHARACTERS])
        chosen.append((conversation, user))
        if len(chosen) == limit:
            break
    return chosen


def provision(db, pairs: list[tuple[ObjectId, ObjectId]]) -> Accounts:
    """Each pair's user given a fresh password (its bcrypt hash written into `db`, the legacy
    database the migration reads); returns their logins."""
    accounts = Accounts()
    for _, user in pairs:
        person = db.User.find_one({"_id": user}, {"username": 1})
        if person is None:
            raise RuntimeError(f"posting user {user} is not in {db.name}.User")
        password = secrets.token_urlsafe(18)
        hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=10)).decode()
        db.User.update_one({"_id": user}, {"$set": {"password": hashed}})
        accounts[str(user)] = (person["username"], password)
    return accounts


def posting_users(db) -> tuple[list[tuple[ObjectId, ObjectId]], Accounts]:
    """The load's (conversation, user) pairs in the legacy database `db`, each user with a
    login of its own."""
    from ops.rehearse.load import posters
    pairs = distinct_logins(db, posters(db, limit=40))
    return pairs, provision(db, pairs)
