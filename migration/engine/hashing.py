"""Deterministic ids and hashes: the same input gives the same bytes on every run and machine."""
from __future__ import annotations

import datetime as _dt
import hashlib
import struct

import bson
from bson import ObjectId


def _encode(part, out: list) -> None:
    # A type tag before each value keeps ("1",) and (1,) and ("1", None) apart.
    if part is None:
        out.append(b"n")
    elif isinstance(part, bool):
        out.append(b"b1" if part else b"b0")
    elif isinstance(part, int):
        out.append(b"i" + str(part).encode())
    elif isinstance(part, float):
        out.append(b"f" + struct.pack(">d", part))
    elif isinstance(part, str):
        data = part.encode("utf-8")
        out.append(b"s" + str(len(data)).encode() + b":" + data)
    elif isinstance(part, ObjectId):
        out.append(b"o" + part.binary)
    elif isinstance(part, (bytes, bytearray)):
        out.append(b"y" + str(len(part)).encode() + b":" + bytes(part))
    elif isinstance(part, _dt.datetime):
        aware = part if part.tzinfo else part.replace(tzinfo=_dt.timezone.utc)
        out.append(b"d" + str(int(aware.timestamp() * 1000)).encode())
    elif isinstance(part, (tuple, list)):
        out.append(b"(" + str(len(part)).encode())
        for item in part:
            _encode(item, out)
        out.append(b")")
    else:
        raise TypeError(f"derived_id cannot encode a {type(part).__name__}: {part!r}")
    out.append(b"|")


def derived_id(*parts) -> ObjectId:
    """An ObjectId that is a pure function of `parts` (first 12 bytes of their sha256)."""
    out: list = []
    for part in parts:
        _encode(part, out)
    return ObjectId(hashlib.sha256(b"".join(out)).digest()[:12])


def bson_bytes(doc) -> bytes:
    """The BSON encoding of a document, keys in the order given (what the server stores)."""
    return bson.encode(doc)


def outcome_digest(parts: list) -> bytes:
    """8-byte digest of one source document's outcomes; equal digests mean nothing to rewrite."""
    h = hashlib.blake2b(digest_size=8)
    for part in parts:
        h.update(len(part).to_bytes(4, "big"))
        h.update(part)
    return h.digest()


# BSON comparison order of types (MongoDB's sort order) so Python merges agree with the server.
_TYPE_RANK = {type(None): 1, int: 2, float: 2, str: 3, dict: 4, list: 5, bytes: 6,
              ObjectId: 7, bool: 8, _dt.datetime: 9}


def sort_key(value):
    """A Python key ordering values the way the server's sort does (for the common types)."""
    if isinstance(value, bool):
        return (8, value)
    rank = _TYPE_RANK.get(type(value))
    if rank is None:
        if isinstance(value, bson.int64.Int64):
            return (2, int(value))
        if isinstance(value, bson.Binary):
            return (6, bytes(value))
        if isinstance(value, dict):
            return (4, tuple((k, sort_key(v)) for k, v in value.items()))
        raise TypeError(f"cannot order a {type(value).__name__} like the server does")
    if rank == 9 and value.tzinfo is not None:
        value = value.astimezone(_dt.timezone.utc).replace(tzinfo=None)
    if rank == 4:
        return (4, tuple((k, sort_key(v)) for k, v in value.items()))
    if rank == 5:
        return (5, tuple(sort_key(v) for v in value))
    return (rank, value)
