"""The load's HTTP exchanges and its users' sessions. The rehearsal's target release may run
Meeshy's real gateway (posting needs a user's JWT, from POST /api/v1/auth/login) while the
legacy release runs the stand-in (no login route: a 404; it takes `userId` without a token).
The load learns which one answers from each login's answer, so one load works across switches
and rollbacks.

The real gateway allows 5 logins per 15 minutes per (client IP, first 3 characters of the
username): a user logs in only while no token is held for it, one login at a time, and a token
is dropped only when the gateway refuses it (401). Passwords are only ever sent: never put into
a reason, an exception or a repr.
"""
from __future__ import annotations

import functools
import json
import ssl
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

LOOPBACK = "127.0.0.1"
REQUEST_TIMEOUT_SECONDS = 5.0
LOGIN = "/api/v1/auth/login"


@functools.cache
def loopback_tls() -> ssl.SSLContext:
    """Traefik answers a rehearsal host with its own generated certificate (no ACME without a
    domain): it is not verified, which is safe only because the peer is 127.0.0.1. Built once:
    loading the system's CA store for every request cost ~30 ms of CPU, for nothing verified."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


@dataclass
class Reply:
    status: int
    body: Any                   # the decoded JSON, or None
    retry_after: str | None = None


def exchange(port: int, host: str, method: str, path: str, body: Any = None,
             token: str | None = None, timeout: float = REQUEST_TIMEOUT_SECONDS) -> Reply:
    """One request through Traefik's https port with the gateway's Host header. Any status is
    a Reply; no answer at all raises OSError (urllib's URLError is one)."""
    headers = {"Host": host, "Accept": "application/json"}
    data = None
    if body is not None:
        data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(f"https://{LOOPBACK}:{port}{path}", data=data,
                                     method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=loopback_tls()) as answer:
            return Reply(answer.status, _decoded(answer.read()))
    except urllib.error.HTTPError as error:
        retry_after = error.headers.get("Retry-After") if error.headers else None
        return Reply(error.code, _decoded(error.read()), retry_after)


def _decoded(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None     # an HTML error page (Traefik's, a proxy's): no JSON to read


@dataclass
class Login:
    """What a write may do after asking for its user's token: post with `token`, post without
    one (`token` None: the stand-in serves), or stop with `outcome` (refused | failed)."""
    token: str | None = field(default=None, repr=False)
    status: int | None = None
    outcome: str | None = None
    reason: str | None = None


class Sessions:
    """The tokens of the load's users, each fetched once and kept until a 401 drops it."""

    def __init__(self, port: int, host: str, accounts: dict[str, tuple[str, str]]):
        self.port, self.host = port, host
        self._accounts = dict(accounts)
        self._tokens: dict[str, str] = {}
        self._lock = threading.Lock()     # one login at a time: two threads never log in twice
        self.logins = 0                   # login requests sent (the gateway limits them)

    def __repr__(self) -> str:
        return f"Sessions(users={len(self._accounts)}, held={len(self._tokens)})"

    def knows(self, user: str) -> bool:
        return user in self._accounts

    def token(self, user: str) -> Login:
        """The held token, or a login's verdict (made while holding the lock, so a concurrent
        write for the same user uses the token the first one got)."""
        with self._lock:
            held = self._tokens.get(user)
            if held:
                return Login(held)
            login = self._log_in(user)
            if login.token:
                self._tokens[user] = login.token
            return login

    def drop(self, user: str, token: str) -> None:
        """Forget a token the gateway refused, unless another write already replaced it."""
        with self._lock:
            if self._tokens.get(user) == token:
                del self._tokens[user]

    def _log_in(self, user: str) -> Login:
        username, password = self._accounts[user]
        self.logins += 1
        try:
            reply = exchange(self.port, self.host, "POST", LOGIN,
                             {"username": username, "password": password})
        except OSError as error:
            return Login(outcome="failed", reason=f"login: {type(error).__name__}")
        if reply.status == 404:
            return Login(status=404)     # no login route: the stand-in serves, it takes userId
        if reply.status == 503 and (reply.retry_after or "").strip():
            return Login(status=503, outcome="refused")   # nothing sent; told when to come back
        data = reply.body.get("data") if isinstance(reply.body, dict) else None
        token = data.get("token") if isinstance(data, dict) else None
        if reply.status == 200 and isinstance(token, str) and token:
            return Login(token, status=200)
        why = " without a token" if reply.status == 200 else ""
        return Login(status=reply.status, outcome="failed", reason=f"login: HTTP {reply.status}{why}")
