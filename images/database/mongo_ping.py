#!/usr/bin/env python3
"""mongo-ping: the database image's health probe, a stand-in for
`mongosh --eval 'db.runCommand("ping").ok'`.

It sends one real `ping` command over the MongoDB wire protocol (OP_MSG) and exits 0 only when
the server answers ok: 1, so a FerretDB that listens but cannot serve fails the probe. Standard
library only: the image carries python3-minimal, not pymongo.

    mongo-ping [--host H] [--port P] [--timeout SECONDS]
"""
from __future__ import annotations

import argparse
import os
import socket
import struct
import sys

OP_MSG = 2013


def _cstring(text: str) -> bytes:
    return text.encode() + b"\x00"


def encode_ping(database: str = "admin") -> bytes:
    """BSON {ping: 1, $db: database}: the smallest document the server accepts as a command."""
    elements = (b"\x10" + _cstring("ping") + struct.pack("<i", 1)
                + b"\x02" + _cstring("$db") + struct.pack("<i", len(database) + 1)
                + _cstring(database))
    return struct.pack("<i", len(elements) + 5) + elements + b"\x00"


def op_msg(document: bytes, request_id: int = 1) -> bytes:
    body = struct.pack("<I", 0) + b"\x00" + document          # flags, section kind 0, body
    return struct.pack("<iiii", 16 + len(body), request_id, 0, OP_MSG) + body


def reply_ok(message: bytes) -> float | None:
    """The `ok` field of an OP_MSG reply's body document, or None when it has none."""
    _, _, _, opcode = struct.unpack_from("<iiii", message, 0)
    if opcode != OP_MSG or message[20] != 0:
        raise ValueError(f"unexpected reply (opcode {opcode}, section kind {message[20]})")
    start = 21
    end = start + struct.unpack_from("<i", message, start)[0] - 1   # before the trailing NUL
    pos = start + 4
    while pos < end:
        kind = message[pos]
        name_end = message.index(b"\x00", pos + 1)
        name = message[pos + 1:name_end].decode()
        pos = name_end + 1
        if kind == 0x01:                      # double
            value: float | None = struct.unpack_from("<d", message, pos)[0]
            size = 8
        elif kind in (0x10, 0x12):            # int32, int64
            size = 4 if kind == 0x10 else 8
            value = float(int.from_bytes(message[pos:pos + size], "little", signed=True))
        elif kind == 0x08:                    # bool
            value, size = float(message[pos]), 1
        elif kind in (0x02, 0x03, 0x04):      # string, document, array: length-prefixed
            length = struct.unpack_from("<i", message, pos)[0]
            value, size = None, length + (4 if kind == 0x02 else 0)
        else:
            return None                       # a type the ping reply never carries before ok
        if name == "ok":
            return value
        pos += size
    return None


def _read_exactly(sock: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise ConnectionError("the server closed the connection mid-reply")
        data += chunk
    return data


def ping(host: str, port: int, timeout: float) -> float | None:
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.settimeout(timeout)
        sock.sendall(op_msg(encode_ping()))
        header = _read_exactly(sock, 4)
        length = struct.unpack("<i", header)[0]
        if not 21 <= length <= 16 * 1024 * 1024:
            raise ValueError(f"implausible reply length {length}")
        return reply_ok(header + _read_exactly(sock, length - 4))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mongo-ping", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default=os.environ.get("MONGO_PING_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("MONGO_PING_PORT", 27017)))
    parser.add_argument("--timeout", type=float, default=3.0)
    args = parser.parse_args(argv)
    try:
        ok = ping(args.host, args.port, args.timeout)
    except (OSError, ValueError) as exc:
        print(f"mongo-ping: {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    print(f"ok: {ok}")
    return 0 if ok == 1 else 1


if __name__ == "__main__":
    sys.exit(main())
