"""Compact encodings for the one lookup that grows with the data (a MessageStatus group per
(message, user) pair): bytes instead of tuples of ObjectIds and datetimes, about a third of
the memory, so ten times production stays within a few tens of megabytes."""
from __future__ import annotations

import struct
from datetime import datetime, timedelta

from bson import ObjectId

EPOCH = datetime(1970, 1, 1)
NO_DATE = -(2 ** 63)
MILLISECOND = timedelta(milliseconds=1)


def pair_key(first: ObjectId, second: ObjectId) -> bytes:
    return first.binary + second.binary


def pack_group(survivor: ObjectId, *dates) -> bytes:
    """The surviving document's id and dates (None when absent), millisecond precision."""
    stamps = [NO_DATE if d is None else (d - EPOCH) // MILLISECOND for d in dates]
    return survivor.binary + struct.pack(f">{len(stamps)}q", *stamps)


def unpack_group(raw: bytes) -> tuple:
    count = (len(raw) - 12) // 8
    stamps = struct.unpack(f">{count}q", raw[12:])
    return (ObjectId(raw[:12]),) + tuple(None if s == NO_DATE else EPOCH + s * MILLISECOND for s in stamps)


def merge_packed(old: bytes | None, new: bytes | None) -> bytes | None:
    """Keep the first survivor; each date becomes the earliest any duplicate carries."""
    if old is None or new is None:
        return old if new is None else new
    count = (len(old) - 12) // 8
    a, b = struct.unpack(f">{count}q", old[12:]), struct.unpack(f">{count}q", new[12:])
    merged = [y if x == NO_DATE else x if y == NO_DATE else min(x, y) for x, y in zip(a, b)]
    return old[:12] + struct.pack(f">{count}q", *merged)
