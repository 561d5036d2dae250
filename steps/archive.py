"""Reads mongodump archives (`--archive --gzip`) without a server.

A backup is only worth what can be proven about it: counting and hashing the documents that
are really inside the archive (not what the server held a moment before or after the dump)
lets a restore be checked against the archive itself. Format: the mongo-tools archive
specification (magic number, header, collection metadata, terminator, then interleaved
namespace segments, each closed by a terminator, and one EOF header per namespace).
"""
from __future__ import annotations

import gzip
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Iterator

import bson
from bson import json_util

MAGIC = 0x8199E26D
TERMINATOR = b"\xff\xff\xff\xff"


class ArchiveError(ValueError):
    """The file is not a complete mongodump archive (truncated, not gzip, wrong format)."""


@dataclass
class NamespaceInfo:
    database: str
    collection: str
    indexes: list[dict] = field(default_factory=list)
    complete: bool = False


def _read_exact(stream: BinaryIO, size: int, what: str) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise ArchiveError(f"archive truncated while reading {what}")
    return data


def _read_document_or_terminator(stream: BinaryIO, what: str) -> bytes | None:
    """Returns raw BSON bytes, or None for the terminator; raises at end of stream."""
    head = _read_exact(stream, 4, what)
    if head == TERMINATOR:
        return None
    (size,) = struct.unpack("<i", head)
    if size < 5:
        raise ArchiveError(f"invalid BSON length {size} in {what}")
    return head + _read_exact(stream, size - 4, what)


def _open(path: Path) -> BinaryIO:
    return gzip.open(path, "rb")  # type: ignore[return-value]


def iter_archive(path: str | Path) -> Iterator[tuple[str, str, bytes | None]]:
    """Yields (database, collection, raw BSON document) in archive order; one
    (database, collection, None) per namespace when its EOF header is read. The prelude
    (collection metadata) is skipped here: read_prelude returns it.
    """
    with _open(Path(path)) as stream:
        try:
            yield from _iter_stream(stream)
        except (OSError, EOFError, gzip.BadGzipFile) as error:
            raise ArchiveError(f"{path}: not a readable gzip archive ({error})") from error


def _iter_stream(stream: BinaryIO) -> Iterator[tuple[str, str, bytes | None]]:
    (magic,) = struct.unpack("<I", _read_exact(stream, 4, "magic number"))
    if magic != MAGIC:
        raise ArchiveError(f"bad magic number {magic:#x}: not a mongodump archive")
    if _read_document_or_terminator(stream, "archive header") is None:
        raise ArchiveError("archive header missing")
    while _read_document_or_terminator(stream, "collection metadata") is not None:
        pass
    while True:
        head = stream.read(4)
        if not head:
            return
        if len(head) != 4:
            raise ArchiveError("archive truncated between namespace segments")
        (size,) = struct.unpack("<i", head)
        header = bson.decode(head + _read_exact(stream, size - 4, "namespace header"))
        database, collection = header["db"], header["collection"]
        if header.get("EOF"):
            if _read_document_or_terminator(stream, "EOF header terminator") is not None:
                raise ArchiveError(f"no terminator after EOF of {database}.{collection}")
            yield database, collection, None
            continue
        while (raw := _read_document_or_terminator(stream, f"{database}.{collection}")) is not None:
            yield database, collection, raw


def read_prelude(path: str | Path) -> list[NamespaceInfo]:
    """The collections the archive declares, with their index definitions."""
    namespaces = []
    with _open(Path(path)) as stream:
        try:
            (magic,) = struct.unpack("<I", _read_exact(stream, 4, "magic number"))
            if magic != MAGIC:
                raise ArchiveError(f"bad magic number {magic:#x}: not a mongodump archive")
            _read_document_or_terminator(stream, "archive header")
            while (raw := _read_document_or_terminator(stream, "collection metadata")) is not None:
                meta = bson.decode(raw)
                details = json_util.loads(meta.get("metadata") or "{}")   # canonical Extended JSON
                namespaces.append(NamespaceInfo(meta["db"], meta["collection"],
                                                details.get("indexes", [])))
        except (OSError, EOFError, gzip.BadGzipFile) as error:
            raise ArchiveError(f"{path}: not a readable gzip archive ({error})") from error
    return namespaces
