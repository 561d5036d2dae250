"""The HTTP side of the stand-ins: one server, three roles, the real services' endpoints.

translator :8000  GET /live, /ready, /health
gateway    :3000  GET /health -> {status, services:{database, translation}} 200 or 503
                  GET /api/v1/conversations, GET|POST /api/v1/conversations/{id}/messages
web        :3100  GET /api/health (asks the gateway through INTERNAL_BACKEND_URL), GET /
agent      :3200  GET /health
Every health answer is 503 while a required variable or a secret file is missing (preflight.py).
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import sys
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

from bson import ObjectId

from .config import Config, ConfigError
from .preflight import problems as preflight_problems
from .store import NewMessage, RequestError, Store, object_id, page_size

MAX_BODY = 64 * 1024
_MESSAGES = r"/api/v1/conversations/([^/]+)/messages"


def _json_default(value: Any) -> Any:
    if isinstance(value, ObjectId):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def http_status(url: str, timeout: float) -> int | None:
    """The status a GET on `url` answers with, or None when nothing answers in time."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (OSError, ValueError):
        return None


class StandinServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, config: Config, host: str = "0.0.0.0", store=None):
        self.config = config
        self.store = store
        if store is None and config.database_url:
            self.store = Store(config.database_url, config.schema, config.probe_timeout)
        super().__init__((host, config.port), Handler)

    def server_close(self) -> None:
        super().server_close()
        if self.store is not None:
            self.store.close()


class Handler(BaseHTTPRequestHandler):
    server: StandinServer
    protocol_version = "HTTP/1.1"

    # -- plumbing ---------------------------------------------------------------------------
    def log_message(self, fmt: str, *args: Any) -> None:
        sys.stderr.write(f"{self.server.config.role}: {self.address_string()} {fmt % args}\n")

    def _send(self, status: int, body: Any, content_type: str = "application/json") -> None:
        data = (json.dumps(body, default=_json_default) if content_type == "application/json"
                else body).encode()
        self._discard_unread_body()
        self.send_response(status)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _discard_unread_body(self) -> None:
        """A body the route never read is read now, or the connection closed: on a kept-alive
        connection (Traefik's to us) its bytes would be taken for the next request's line, which
        then gets a 400 (a 404 to a login once broke every request after it so)."""
        length = int(self.headers.get("Content-Length") or 0)
        if self._body_read or length == 0:
            return
        if length > MAX_BODY:
            self.close_connection = True
        else:
            self.rfile.read(length)
        self._body_read = True

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise _Reply(413, {"error": f"body larger than {MAX_BODY} bytes"})
        self._body_read = True
        try:
            return json.loads(self.rfile.read(length) or b"null")
        except json.JSONDecodeError as exc:
            raise _Reply(400, {"error": f"body is not JSON: {exc}"}) from None

    def _dispatch(self, method: str) -> None:
        self._body_read = False
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        routes = ROUTES[self.server.config.role]
        try:
            for (route_method, pattern), action in routes.items():
                match = re.fullmatch(pattern, url.path)
                if match and route_method == method:
                    status, body = action(self, query, *match.groups())
                    self._send(status, body)
                    return
            known = any(re.fullmatch(p, url.path) for (_, p) in routes)
            self._send(405 if known else 404,
                       {"error": f"{method} {url.path} is not served by the "
                                 f"{self.server.config.role}"})
        except _Reply as reply:
            self._send(reply.status, reply.body)
        except RequestError as exc:
            self._send(exc.status, {"error": str(exc)})

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    # -- health -----------------------------------------------------------------------------
    def _forced(self) -> bool:
        return self.server.config.force_unhealthy

    def _preflight(self) -> list[str]:
        config = self.server.config
        return preflight_problems(config.missing_env, config.secret_files)

    def translator_live(self, query):
        return 200, {"status": "alive"}

    def translator_ready(self, query):
        ready = not self._forced() and not self._preflight() and self.server.store.ping()
        return (200 if ready else 503), {"status": "ready" if ready else "not ready"}

    def translator_health(self, query):
        database = self.server.store.ping()
        missing = self._preflight()
        ok = database and not missing and not self._forced()
        return (200 if ok else 503), {"status": "healthy" if ok else "unhealthy",
                                      "services": {"database": database}, "standin": True,
                                      **({"configuration": missing} if missing else {})}

    def gateway_health(self, query):
        config = self.server.config
        database = self.server.store.ping()
        translation = http_status(config.translator_url.rstrip("/") + "/health",
                                  config.probe_timeout) == 200
        missing = self._preflight()
        ok = database and translation and not missing and not self._forced()
        return (200 if ok else 503), {"status": "healthy" if ok else "unhealthy",
                                      "services": {"database": database,
                                                   "translation": translation},
                                      "schema": config.schema, "standin": True,
                                      **({"configuration": missing} if missing else {})}

    def agent_health(self, query):
        missing = self._preflight()
        database = self.server.store.ping() if self.server.store else None
        ok = not missing and database is not False and not self._forced()
        return (200 if ok else 503), {"status": "healthy" if ok else "unhealthy",
                                      "services": {"database": database}, "standin": True,
                                      **({"configuration": missing} if missing else {})}

    def web_health(self, query):
        config = self.server.config
        backend = http_status(config.backend_url.rstrip("/") + "/health", config.probe_timeout)
        ok = backend == 200 and not self._preflight() and not self._forced()
        return (200 if ok else 503), {"status": "healthy" if ok else "unhealthy",
                                      "backend": {"url": config.backend_url, "status": backend},
                                      "standin": True}

    def web_index(self, query):
        return 200, {"service": "meeshy web stand-in", "health": "/api/health"}

    # -- gateway API ------------------------------------------------------------------------
    def list_conversations(self, query):
        return 200, {"data": self.server.store.conversations(page_size(query.get("limit")))}

    def list_messages(self, query, conversation):
        found = self.server.store.messages(object_id(conversation, "conversation id"),
                                           page_size(query.get("limit")))
        return 200, {"data": found}

    def post_message(self, query, conversation):
        new = NewMessage.from_body(self._body())
        created = self.server.store.post_message(object_id(conversation, "conversation id"), new)
        return 201, {"data": created}


class _Reply(Exception):
    def __init__(self, status: int, body: Any):
        super().__init__(status)
        self.status, self.body = status, body


Action = Callable[..., tuple[int, Any]]
ROUTES: dict[str, dict[tuple[str, str], Action]] = {
    "translator": {("GET", "/live"): Handler.translator_live,
                   ("GET", "/ready"): Handler.translator_ready,
                   ("GET", "/health"): Handler.translator_health},
    "gateway": {("GET", "/health"): Handler.gateway_health,
                ("GET", "/api/v1/conversations"): Handler.list_conversations,
                ("GET", _MESSAGES): Handler.list_messages,
                ("POST", _MESSAGES): Handler.post_message},
    "web": {("GET", "/api/health"): Handler.web_health,
            ("GET", "/"): Handler.web_index},
    "agent": {("GET", "/health"): Handler.agent_health},
}


def main(env=None) -> int:
    try:
        config = Config.from_env(os.environ if env is None else env)
    except ConfigError as exc:
        print(f"meeshy stand-in: {exc}", file=sys.stderr)
        return 2
    server = StandinServer(config)
    # Docker stops a container with SIGTERM; PID 1 ignores it unless handled, and the ten
    # seconds until SIGKILL would be counted in the switch's unavailability window.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"meeshy stand-in: {config.role} ({config.schema} schema) on :{config.port}",
          file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
