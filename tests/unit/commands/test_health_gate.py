"""steps.health_gate: bounded polling that names the failing service and its last answer.
The endpoints are a loopback HTTP server the test controls."""
from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from steps import health_gate


class Endpoints:
    """/ok answers 200; /late answers 503 until `ready_after` requests; /down always 503."""

    def __init__(self, ready_after=3):
        self.hits: dict[str, int] = {}
        endpoints = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                n = endpoints.hits[self.path] = endpoints.hits.get(self.path, 0) + 1
                ok = self.path == "/ok" or (self.path == "/late" and n > ready_after)
                body = b'{"status":"ok"}' if ok else b'{"status":"degraded","services":{"database":"down"}}'
                self.send_response(200 if ok else 503)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path):
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"


@pytest.fixture
def endpoints():
    server = Endpoints()
    yield server
    server.server.shutdown()
    server.server.server_close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_waits_for_a_service_that_becomes_healthy(endpoints):
    result = health_gate.run_gate({"gateway": endpoints.url("/ok"), "web": endpoints.url("/late")},
                                  None, deadline=10, interval=0.05, probe_timeout=2)
    assert result["healthy"] and result["failures"] == []
    assert result["services"]["web"]["attempts"] == 4 and result["services"]["gateway"]["attempts"] == 1
    assert endpoints.hits["/ok"] == 1       # a healthy service is not probed again


def test_failure_names_the_service_and_its_last_answer(endpoints):
    started = time.monotonic()
    result = health_gate.run_gate({"gateway": endpoints.url("/down"), "static": endpoints.url("/ok")},
                                  None, deadline=1.0, interval=0.1, probe_timeout=1)
    assert time.monotonic() - started < 3
    assert not result["healthy"]
    assert result["failures"] == ['gateway: HTTP 503 {"status":"degraded","services":{"database":"down"}}']
    assert result["services"]["static"]["healthy"]


def test_a_service_that_does_not_answer(endpoints):
    result = health_gate.run_gate({"translator": f"http://127.0.0.1:{closed_port()}/live"}, None,
                                  deadline=0.5, interval=0.1, probe_timeout=0.5)
    assert result["failures"][0].startswith("translator: no answer: ")


def test_database_ping_failure_is_named(endpoints):
    result = health_gate.run_gate({}, f"mongodb://127.0.0.1:{closed_port()}/?directConnection=true",
                                  deadline=0.5, interval=0.1, probe_timeout=0.3)
    assert result["failures"][0].startswith("database: no answer: ServerSelectionTimeoutError")


def test_cli_exit_codes_and_json(endpoints, capsys, monkeypatch):
    assert health_gate.main(["--deadline", "2", "--interval", "0.05",
                             "--http", f"gateway={endpoints.url('/ok')}"]) == 0
    assert json.loads(capsys.readouterr().out)["healthy"] is True
    assert health_gate.main(["--deadline", "0.3", "--interval", "0.1",
                             "--http", f"gateway={endpoints.url('/down')}"]) == 1
    captured = capsys.readouterr()
    assert "health gate failed after" in captured.err and "gateway: HTTP 503" in captured.err
    assert json.loads(captured.out)["healthy"] is False


@pytest.mark.parametrize("argv, message", [
    (["--deadline", "1", "--http", "gateway"], "--http expects NAME=http(s)://..., got 'gateway'"),
    (["--deadline", "1", "--http", "a=http://x", "--http", "a=http://y"], "--http names 'a' twice"),
    (["--deadline", "1"], "nothing to check"),
    (["--deadline", "1", "--mongo-env", "MEESHY_NOPE"], "MEESHY_NOPE: that environment variable is empty"),
    (["--deadline", "0", "--http", "a=http://x"], "--deadline and --interval must be positive"),
])
def test_usage_errors(argv, message, capsys, monkeypatch):
    monkeypatch.delenv("MEESHY_NOPE", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        health_gate.main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
