"""Checks of the command line's files, done before any database is contacted.

A report path that cannot be written used to fail after the whole run; a schema path naming a
device or a FIFO used to read forever. Each problem is one sentence and exit code 2.
"""
from __future__ import annotations

import os
import pathlib
import stat
import tempfile

from migration.engine.errors import ConfigError
from migration.engine.validation.schema import parse_schema

MAX_SCHEMA_BYTES = 8 * 1024 * 1024   # a real schema.prisma is tens of KB


def check_writable(path: str, flag: str = "--json") -> None:
    """The report file can be created or replaced (without touching an existing one)."""
    target = pathlib.Path(path)
    parent = target.parent if str(target.parent) else pathlib.Path(".")
    if target.is_dir():
        raise ConfigError(f"{flag} {path} is a directory, not a file")
    if target.exists():
        if not target.is_file():
            raise ConfigError(f"{flag} {path} exists and is not a regular file")
        if not os.access(target, os.W_OK):
            raise ConfigError(f"{flag} {path} exists and is not writable")
        return
    if not parent.is_dir():
        raise ConfigError(f"{flag} {path}: the directory {parent} does not exist")
    # Created and removed, not os.access: root passes that check on every directory, even one
    # whose filesystem refuses the file (a read-only mount, /proc), and the report was lost.
    try:
        with tempfile.NamedTemporaryFile(dir=parent, prefix=".write-check-"):
            pass
    except OSError:
        raise ConfigError(f"{flag} {path}: the directory {parent} is not writable") from None


def read_schema(path) -> object:
    """The parsed schema; refuses what is not a regular UTF-8 file of sane size without
    opening it (a FIFO would block, /dev/zero would never end)."""
    path = pathlib.Path(path)
    try:
        info = path.stat()
    except OSError as exc:
        raise ConfigError(f"cannot read the schema file {path}: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(f"the schema file {path} is not a regular file (a device, FIFO or "
                          f"directory): give the application's schema.prisma")
    if info.st_size > MAX_SCHEMA_BYTES:
        raise ConfigError(f"the schema file {path} holds {info.st_size} bytes, more than the "
                          f"{MAX_SCHEMA_BYTES} a Prisma schema can plausibly need")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the schema file {path}: {exc.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"the schema file {path} is not UTF-8 text (byte {exc.start} is "
                          f"{data[exc.start]:#04x}): give the application's schema.prisma") \
            from None
    return parse_schema(text, str(path))
