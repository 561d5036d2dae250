"""The DocumentDB image's gateway answers every connection of a burst (on 127.0.0.1).

Upstream's gateway (v0.106.0) bound a new listener for each connection it accepted and dropped
the old one, so connections still queued on it were reset: mongodump's parallel connections
failed a backup of a rehearsal on DocumentDB ("connection reset by peer" in the handshake), and
the real gateway's Prisma pool answered 500 for a moment. tools/build-documentdb.sh patches it
(tools/documentdb/gateway-one-listener.patch). Measured with this test on the unpatched image
73 of 100 connections not answered; patched: none.
"""
from __future__ import annotations

import socket
import struct
import time

import bson
import pytest

from testing.documentdb import DocumentDB

pytestmark = pytest.mark.docker

BURST = 100
OP_MSG = 2013


def _hello(request_id: int) -> bytes:
    """An OP_MSG `hello`: the first thing a driver sends, answered without a login."""
    body = struct.pack("<I", 0) + b"\x00" + bson.encode({"hello": 1, "$db": "admin"})
    return struct.pack("<iiii", 16 + len(body), request_id, 0, OP_MSG) + body


def _answered(sock: socket.socket, request_id: int) -> bool:
    try:
        sock.setblocking(True)
        sock.settimeout(10)
        sock.sendall(_hello(request_id))
        header = b""
        while len(header) < 16:     # the gateway writes the header's fields one by one
            part = sock.recv(16 - len(header))
            if not part:
                return False
            header += part
        return struct.unpack("<iiii", header)[2:] == (request_id, OP_MSG)
    except OSError:
        return False
    finally:
        sock.close()


@pytest.fixture(scope="module")
def documentdb():
    server = DocumentDB().start()
    yield server
    server.stop()


def test_every_connection_of_a_burst_is_answered(documentdb):
    """A hundred connections opened at once, before any is read: each gets its `hello`
    answered, none is reset."""
    sockets = []
    for _ in range(BURST):
        sock = socket.socket()
        sock.setblocking(False)
        sock.connect_ex(("127.0.0.1", documentdb.port))
        sockets.append(sock)
    time.sleep(0.5)     # every connection queued before the first request
    answered = sum(_answered(sock, n) for n, sock in enumerate(sockets))
    assert answered == BURST, f"{BURST - answered} of {BURST} connections were not answered"
