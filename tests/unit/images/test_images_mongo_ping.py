"""The database image's health probe (images/database/mongo_ping.py) speaks the wire protocol
itself; it is checked against a real FerretDB and against a server that is not MongoDB."""
from __future__ import annotations

import importlib.util
import pathlib
import socket
import threading

import pytest

_PATH = pathlib.Path(__file__).resolve().parents[3] / "images" / "database" / "mongo_ping.py"
_spec = importlib.util.spec_from_file_location("mongo_ping", _PATH)
mongo_ping = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mongo_ping)


def test_ping_succeeds_against_ferretdb(ferretdb, capsys):
    assert mongo_ping.main(["--port", str(ferretdb.port)]) == 0
    assert capsys.readouterr().out.strip() == "ok: 1.0"


def test_ping_fails_when_nothing_listens(capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]   # closed again before the probe connects
    assert mongo_ping.main(["--port", str(port), "--timeout", "1"]) == 1
    assert f"127.0.0.1:{port}" in capsys.readouterr().err


def test_ping_fails_against_a_server_that_is_not_mongodb(capsys):
    # An HTTP server on the database port (a wrong container behind the name) must not pass.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def answer_http():
        conn, _ = listener.accept()
        with conn:
            conn.recv(1024)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")

    thread = threading.Thread(target=answer_http, daemon=True)
    thread.start()
    try:
        code = mongo_ping.main(["--port", str(listener.getsockname()[1]), "--timeout", "2"])
    finally:
        thread.join(timeout=5)
        listener.close()
    assert code == 1


@pytest.mark.parametrize("value, kind, expected", [
    (b"\x00\x00\x00\x00\x00\x00\xf0\x3f", b"\x01", 1.0),   # double 1.0
    (b"\x00\x00\x00\x00", b"\x10", 0.0),                    # int32 0
])
def test_reply_ok_reads_the_ok_field_whatever_its_numeric_type(value, kind, expected):
    element = kind + b"ok\x00" + value
    document = (len(element) + 5).to_bytes(4, "little") + element + b"\x00"
    body = b"\x00\x00\x00\x00" + b"\x00" + document
    header = (16 + len(body)).to_bytes(4, "little") + b"\x01\x00\x00\x00" * 2 + \
        (2013).to_bytes(4, "little")
    assert mongo_ping.reply_ok(header + body) == expected
