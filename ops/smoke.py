"""The smoke check of one gateway, through its own HTTP API (ops/meeshy_api.py): what a user
does first, on the data the gateway serves, so a staging whose data the gateway cannot read is
caught before a switch, not after.

Five checks, in order, each timed:
  health         GET /health answers 200
  wrong-password a login with a wrong password is refused: a 4xx, not a 5xx, and no token
  login          the smoke user (a migrated user: ops/smoke_user.py) logs in
  conversations  it lists its conversations: at least one
  messages       it lists the messages of one of them: at least one (the first conversations
                 listed are tried in turn; one the gateway fails to list fails the check)

A check whose prerequisite failed is reported as skipped (not ok). A failure names what failed
and what the gateway answered (status and its error text). The password and the token are never
put into a result: details are built from statuses, counts, ids and the gateway's error text,
and that text is scrubbed of both in case a gateway echoes them.
"""
from __future__ import annotations

import secrets
import time
from dataclasses import asdict, dataclass, field
from typing import Callable

from ops.meeshy_api import Answer, ApiError, MeeshyApi

CHECKS = ("health", "wrong-password", "login", "conversations", "messages")
# Conversations tried for a message: a user's newest conversation may be empty (just created).
CONVERSATIONS_TRIED = 5


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    seconds: float


@dataclass
class SmokeResult:
    url: str
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    def failed(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    def to_dict(self) -> dict:
        return {"url": self.url, "ok": self.ok, "checks": [asdict(c) for c in self.checks]}


class _Failed(Exception):
    """A check's failure: its detail for the operator."""


def smoke_check(api: MeeshyApi, username: str, password: str) -> SmokeResult:
    result = SmokeResult(api.base_url)
    state: dict = {}
    scrub = _scrubber(password, state)

    def run(name: str, check: Callable[[], str], needs: str | None = None) -> None:
        if needs is not None and needs not in state:
            result.checks.append(Check(name, False, f"skipped: {needs} failed", 0.0))
            return
        started = time.monotonic()
        try:
            ok, detail = True, check()
        except _Failed as failed:
            ok, detail = False, str(failed)
        except ApiError as refused:
            ok, detail = False, str(refused)   # what was asked, the status, the error text
        except OSError as error:   # refused connection, timeout, TLS: the gateway did not answer
            ok, detail = False, f"no answer from {api.base_url}: {error}"
        result.checks.append(Check(name, ok, scrub(detail), round(time.monotonic() - started, 3)))

    run("health", lambda: _health(api))
    run("wrong-password", lambda: _wrong_password(api, username, password))
    run("login", lambda: _login(api, username, password, state))
    run("conversations", lambda: _conversations(api, state), needs="login")
    run("messages", lambda: _messages(api, state), needs="conversations")
    return result


def _health(api: MeeshyApi) -> str:
    answer = api.health()
    if answer.status != 200:
        raise _Failed(_answered("/health", answer))
    status = answer.body.get("status") if isinstance(answer.body, dict) else None
    return f"HTTP 200{f' ({status})' if status else ''}"


def _wrong_password(api: MeeshyApi, username: str, password: str) -> str:
    # A password that differs from the real one whatever it is: a fresh random suffix.
    answer = api.login(username, password + secrets.token_hex(4))
    data = answer.data() if isinstance(answer.data(), dict) else {}
    if data.get("token"):
        raise _Failed(f"a wrong password was accepted: HTTP {answer.status} with a token")
    if not 400 <= answer.status < 500:
        raise _Failed(_answered("a login with a wrong password was not refused with a 4xx", answer))
    return f"refused with HTTP {answer.status}"


def _login(api: MeeshyApi, username: str, password: str, state: dict) -> str:
    state["token"] = api.token(username, password)   # ApiError names the refusal
    state["login"] = True
    return f"{username} logged in"


def _conversations(api: MeeshyApi, state: dict) -> str:
    listed = api.conversations(state["token"])
    ids = [c.get("id") for c in listed if isinstance(c, dict) and c.get("id")]
    if not ids:
        raise _Failed("the smoke user lists no conversation (HTTP 200, an empty list)")
    state["conversations"] = ids
    return f"{len(ids)} listed"


def _messages(api: MeeshyApi, state: dict) -> str:
    tried = state["conversations"][:CONVERSATIONS_TRIED]
    for conversation in tried:
        listed = api.messages(state["token"], conversation, limit=20)   # ApiError names it
        if listed:
            return f"{len(listed)} listed in conversation {conversation}"
    raise _Failed(f"no message listed in the {len(tried)} first conversation(s) "
                  f"({', '.join(tried)}): each answered HTTP 200 with an empty list")


def _answered(what: str, answer: Answer) -> str:
    text = answer.error() or (answer.body[:200] if isinstance(answer.body, str) else "")
    return f"{what}: the gateway answered HTTP {answer.status}" + (f": {text}" if text else "")


def _scrubber(password: str, state: dict) -> Callable[[str], str]:
    def scrub(text: str) -> str:
        for secret in (password, state.get("token")):
            text = text.replace(secret, "***") if secret else text
        return text
    return scrub


def format_result(result: SmokeResult) -> str:
    """The checks as a small table, then one line: passed, or what failed."""
    lines = [f"smoke check of {result.url}",
             f"  {'check':<15} {'result':<7} {'seconds':>7}  detail"]
    for c in result.checks:
        lines.append(f"  {c.name:<15} {'ok' if c.ok else 'FAILED':<7} {c.seconds:>7.2f}  {c.detail}")
    failed = ", ".join(c.name for c in result.failed())
    lines.append("passed" if result.ok else f"FAILED: {failed}")
    return "\n".join(lines)
