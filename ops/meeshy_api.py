"""A small client of Meeshy's real gateway HTTP API (services/gateway of isopen-io/meeshy, the
routes of its route-registration.ts): the health route, login, a user's conversations, a
conversation's messages and posting one. Standard library only, so any interpreter of the
project runs it; tests/e2e/test_real_gateway.py drives the real gateway image with it.

Every answer is an `Answer` whatever its status (a refusal is data, not an exception); the
helpers that need a definite success raise `ApiError` with the status and the gateway's own
error text. Tokens are only ever sent, never logged or put into an error.
"""
from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

API = "/api/v1"


class ApiError(RuntimeError):
    def __init__(self, what: str, answer: "Answer"):
        super().__init__(f"{what}: HTTP {answer.status} {answer.error()}".rstrip())
        self.answer = answer


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict = field(default_factory=dict)

    def data(self) -> Any:
        """The payload of the gateway's envelope ({success, data}), or the body itself."""
        if isinstance(self.body, dict) and "data" in self.body:
            return self.body["data"]
        return self.body

    def error(self) -> str:
        body = self.body if isinstance(self.body, dict) else {}
        return str(body.get("error") or body.get("message") or "")[:300]


class MeeshyApi:
    """`base_url` is the gateway's (http://127.0.0.1:PORT) or Traefik's with `host` set to the
    gateway's public name; `context` an ssl.SSLContext for HTTPS."""

    def __init__(self, base_url: str, *, host: str | None = None, timeout: float = 15.0,
                 context: ssl.SSLContext | None = None):
        self.base_url, self.host, self.timeout, self.context = base_url.rstrip("/"), host, timeout, context

    def request(self, method: str, path: str, body: Any = None, token: str | None = None) -> Answer:
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if self.host:
            headers["Host"] = self.host
        request = urllib.request.Request(self.base_url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout, context=self.context) as reply:
                return Answer(reply.status, _decoded(reply.read()), dict(reply.headers))
        except urllib.error.HTTPError as refused:
            return Answer(refused.code, _decoded(refused.read()), dict(refused.headers or {}))

    def health(self) -> Answer:
        return self.request("GET", "/health")

    def login(self, username: str, password: str) -> Answer:
        return self.request("POST", f"{API}/auth/login", {"username": username, "password": password})

    def token(self, username: str, password: str) -> str:
        """A JWT for `username`, or ApiError (a refused login, or an account asking for 2FA)."""
        answer = self.login(username, password)
        token = (answer.data() or {}).get("token") if answer.status == 200 else None
        if not token:
            raise ApiError(f"login of {username!r} refused", answer)
        return token

    def conversations(self, token: str, limit: int = 50) -> list[dict]:
        answer = self.request("GET", f"{API}/conversations?limit={limit}", token=token)
        return _listed("listing conversations", answer, "conversations")

    def messages(self, token: str, conversation_id: str, limit: int = 50) -> list[dict]:
        answer = self.request("GET", f"{API}/conversations/{conversation_id}/messages?limit={limit}",
                              token=token)
        return _listed(f"reading conversation {conversation_id}", answer, "messages")

    def post_message(self, token: str, conversation_id: str, content: str,
                     language: str = "en") -> dict:
        """The message as the gateway acknowledged it (its `id` included)."""
        answer = self.request("POST", f"{API}/conversations/{conversation_id}/messages",
                              {"content": content, "originalLanguage": language}, token=token)
        message = answer.data() if answer.status in (200, 201) else None
        if isinstance(message, dict) and isinstance(message.get("message"), dict):
            message = message["message"]
        if not isinstance(message, dict) or not message.get("id"):
            raise ApiError(f"posting to conversation {conversation_id}", answer)
        return message


def _decoded(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw.decode(errors="replace")


def _listed(what: str, answer: Answer, key: str) -> list[dict]:
    """The list a listing route answers: `data` itself or `data[key]`."""
    data = answer.data() if answer.status == 200 else None
    if isinstance(data, dict):
        data = data.get(key)
    if not isinstance(data, list):
        raise ApiError(what, answer)
    return data
