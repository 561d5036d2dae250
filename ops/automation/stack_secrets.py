"""The stack secrets ops itself needs, read from each stack's own Pulumi workspace.

Only one today: `meeshy:databasePassword`, the login of a database server that needs one
(`meeshy:database.server: documentdb`). ops builds its database servers from settings and the
stack file's plain values (ops/data_ops.py server_for), where no StackRunner is at hand: every
StackRunner registers its stack's reader here when it opens the workspace, and server_for asks
by stack name. The value is decrypted by the Pulumi CLI with the stack's passphrase (the
runner's environment), kept in memory by the caller, never logged nor put on a command line.
"""
from __future__ import annotations

from typing import Callable

DATABASE_PASSWORD = "meeshy:databasePassword"

# stack name -> reads one key of that stack's configuration (None when the key is not set)
_readers: dict[str, Callable[[str], str | None]] = {}


class StackSecretError(RuntimeError):
    pass


def register(stack: str, reader: Callable[[str], str | None]) -> None:
    _readers[stack] = reader


def database_password(stack: str) -> str:
    """The stack's decrypted meeshy:databasePassword; a StackSecretError naming the key when
    it cannot be had (not set, or no workspace of the stack opened in this run)."""
    reader = _readers.get(stack)
    if reader is None:
        raise StackSecretError(
            f"{DATABASE_PASSWORD} of stack {stack!r} cannot be read: this run opened no Pulumi "
            "workspace of that stack (ops reads it with the stack's passphrase); nothing was changed")
    try:
        value = reader(DATABASE_PASSWORD)
    except Exception as error:   # the CLI's failure, which never carries the value
        raise StackSecretError(f"{DATABASE_PASSWORD} of stack {stack!r} cannot be read: "
                               f"{_first_line(error)}; nothing was changed") from None
    if not value:
        raise StackSecretError(
            f"{DATABASE_PASSWORD} is not set for stack {stack!r}: its database "
            "(meeshy:database.server: documentdb) needs a login; set it with `pulumi config set "
            f"--secret {DATABASE_PASSWORD} ... --stack {stack}` (nothing was changed)")
    return value


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
