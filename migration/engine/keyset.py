"""Sets and maps that stay small in memory: past a limit they move to a temporary SQLite file.

Verification holds the keys of referenced documents, and lookups hold small source
collections; either may grow with the data, so both spill the same way once they pass
SPILL_AT entries, and memory stays flat from x1 to x10.
"""
from __future__ import annotations

import os
import sqlite3
import tempfile
import threading

import bson

from migration.engine.hashing import _encode

SPILL_AT = 20_000  # entries held in memory before moving to a temporary SQLite file


def temporary_sqlite(prefix: str) -> sqlite3.Connection:
    """A private SQLite file deleted at once: the open connection keeps it, nothing is left."""
    handle, path = tempfile.mkstemp(prefix=prefix, suffix=".sqlite")
    os.close(handle)
    db = sqlite3.connect(path, check_same_thread=False)
    os.unlink(path)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-4000")
    return db


def exact_key(values) -> bytes:
    """A byte key keeping types apart (ObjectId and its hex string are different references)."""
    out: list = []
    try:
        _encode(tuple(values), out)
    except TypeError:  # a type the canonical encoding lacks: BSON keeps it exact too
        return b"B" + bson.encode({"k": list(values)})
    return b"".join(out)


class Spillable:
    """What spills to a temporary SQLite file: whether it has, and closing (deletes it)."""
    _db = None

    @property
    def spilled(self) -> bool:
        return self._db is not None

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


class KeySet(Spillable):
    """A set of byte keys; in memory up to SPILL_AT keys, then in a temporary SQLite table.

    Filled by one thread, then read by several (verification checks two collections at once
    against one referenced set): a lock keeps the shared SQLite connection to one at a time."""

    def __init__(self, spill_at: int = SPILL_AT):
        self.spill_at = spill_at
        self._keys: set = set()
        self._db = None
        self._lock = threading.Lock()

    def add(self, key: bytes) -> None:
        if self._db is not None:
            with self._lock:
                self._db.execute("INSERT OR IGNORE INTO k VALUES (?)", (key,))
            return
        self._keys.add(key)
        if len(self._keys) > self.spill_at:
            self._db = temporary_sqlite("migration-keys-")
            self._db.execute("CREATE TABLE k (key BLOB PRIMARY KEY) WITHOUT ROWID")
            self._db.executemany("INSERT INTO k VALUES (?)", ((k,) for k in self._keys))
            self._keys = set()

    def __contains__(self, key: bytes) -> bool:
        if self._db is None:
            return key in self._keys
        with self._lock:
            row = self._db.execute("SELECT 1 FROM k WHERE key = ?", (key,)).fetchone()
        return row is not None
