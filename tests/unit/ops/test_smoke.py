"""The smoke check (ops/smoke.py) and its verb (ops/smoke_verb.py) against a loopback gateway
answering as Meeshy's does (envelopes {success, data}), told how to misbehave: each failure is
named with what the gateway answered, nothing after a failed login runs, and neither the
password nor the token reaches a result, the ledger or the table."""
from __future__ import annotations

import json
import re
from types import SimpleNamespace

import pytest

from ops import smoke_user
from ops.automation.ledger import Ledger
from ops.meeshy_api import MeeshyApi
from ops.smoke import CHECKS, format_result, smoke_check
from ops.smoke_verb import smoke, smoke_problem
from tests.support.json_http import JsonHandler, LoopbackServer

USER, PASSWORD, TOKEN = "alice", "right-password-0123456789", "tok.en.value-abcdef0123456789"
_MESSAGES = re.compile(r"^/api/v1/conversations/([^/?]+)/messages")


class Gateway(LoopbackServer):
    """Meeshy's routes the smoke check uses; `behaviour` overrides one route's answer."""

    def __init__(self, **behaviour):
        self.behaviour = {"health": (200, {"status": "healthy"}),
                          "wrong": (401, {"success": False, "error": "Invalid credentials"}),
                          "conversations": (200, {"success": True, "data": [{"id": "c1"}, {"id": "c2"}]}),
                          "messages": {"c1": [], "c2": [{"id": "m1"}]}, **behaviour}
        self.seen: list[str] = []
        gateway = self

        class Handler(JsonHandler):
            def do_GET(self):
                gateway.seen.append(self.path)
                if self.path == "/health":
                    return self._answer(*gateway.behaviour["health"])
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    return self._answer(401, {"success": False, "error": "Unauthorized"})
                if self.path.startswith("/api/v1/conversations?"):
                    return self._answer(*gateway.behaviour["conversations"])
                found = _MESSAGES.match(self.path)
                messages = gateway.behaviour["messages"]
                if callable(messages):
                    return self._answer(*messages(found.group(1)))
                self._answer(200, {"success": True, "data": messages.get(found.group(1), [])})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                gateway.seen.append(self.path)
                if (body["username"], body["password"]) == (USER, PASSWORD):
                    return self._answer(200, {"success": True, "data": {"token": TOKEN}})
                self._answer(*gateway.behaviour["wrong"])

        self.serve(Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"


def checked(password: str = PASSWORD, **behaviour):
    with Gateway(**behaviour) as gateway:
        return smoke_check(MeeshyApi(gateway.url, timeout=5), USER, password), gateway


def outcomes(result) -> dict[str, bool]:
    return {c.name: c.ok for c in result.checks}


def no_secret_in(result) -> None:
    text = json.dumps(result.to_dict()) + format_result(result)
    assert PASSWORD not in text and TOKEN not in text


def test_a_gateway_serving_its_data_passes_every_check():
    result, gateway = checked()
    assert result.ok and [c.name for c in result.checks] == list(CHECKS)
    messages = result.checks[-1]
    assert messages.detail == "1 listed in conversation c2"   # c1 was empty: the next one tried
    assert all(c.seconds >= 0 for c in result.checks)
    assert format_result(result).splitlines()[-1] == "passed"
    no_secret_in(result)


def test_a_conversation_the_gateway_cannot_read_fails_the_messages_check():
    result, _ = checked(messages=lambda c: (500, {"success": False, "error": "Inconsistent column data"}))
    assert outcomes(result) == {**dict.fromkeys(CHECKS, True), "messages": False}
    detail = result.checks[-1].detail
    assert "reading conversation c1" in detail and "HTTP 500" in detail and "Inconsistent column" in detail
    assert format_result(result).splitlines()[-1] == "FAILED: messages"


def test_no_message_in_any_conversation_tried_fails_and_says_which():
    result, _ = checked(messages={})
    assert not result.ok
    assert "no message listed in the 2 first conversation(s) (c1, c2)" in result.checks[-1].detail


def test_a_user_without_conversations_fails_and_messages_is_skipped():
    result, gateway = checked(conversations=(200, {"success": True, "data": []}))
    assert outcomes(result)["conversations"] is False
    assert result.checks[-1].detail == "skipped: conversations failed"
    assert not any("/messages" in path for path in gateway.seen)


def test_a_refused_login_skips_what_needs_it_and_never_shows_the_password():
    result, gateway = checked(password="not-" + PASSWORD)
    assert outcomes(result) == {"health": True, "wrong-password": True, "login": False,
                                "conversations": False, "messages": False}
    assert "login of 'alice' refused: HTTP 401 Invalid credentials" in result.checks[2].detail
    assert not any(path.startswith("/api/v1/conversations") for path in gateway.seen)
    assert "not-" + PASSWORD not in json.dumps(result.to_dict())


@pytest.mark.parametrize("answer, expected", [
    ((500, {"success": False, "error": "boom"}),
     "not refused with a 4xx: the gateway answered HTTP 500: boom"),
    ((200, {"success": True, "data": {"token": "leaked"}}),
     "a wrong password was accepted: HTTP 200 with a token"),
])
def test_a_wrong_password_must_be_refused_with_a_4xx_and_no_token(answer, expected):
    result, _ = checked(wrong=answer)
    assert outcomes(result)["wrong-password"] is False and expected in result.checks[1].detail
    no_secret_in(result)


def test_an_unhealthy_gateway_fails_health_with_its_answer():
    result, _ = checked(health=(503, {"status": "unhealthy", "error": "database down"}))
    assert result.checks[0].ok is False
    assert result.checks[0].detail == "/health: the gateway answered HTTP 503: database down"


def test_an_error_echoing_the_password_or_token_is_scrubbed():
    echo = (500, {"success": False, "error": f"bad {PASSWORD} {TOKEN}"})
    result, _ = checked(conversations=echo)
    assert "bad *** ***" in result.checks[3].detail
    no_secret_in(result)


def test_a_gateway_that_does_not_answer_fails_every_check_it_reaches():
    with Gateway() as gateway:
        url = gateway.url
    result = smoke_check(MeeshyApi(url, timeout=2), USER, PASSWORD)
    assert outcomes(result) == dict.fromkeys(CHECKS, False)
    assert result.checks[0].detail.startswith(f"no answer from {url}")


def test_the_verb_prints_the_table_records_the_result_and_exits_1_on_a_failure(tmp_path, capsys,
                                                                              monkeypatch):
    monkeypatch.delenv("MEESHY_SMOKE_PASSWORD", raising=False)
    runner = SimpleNamespace(ledger=Ledger(tmp_path), desired=lambda: pytest.fail("--url given"))
    smoke_user.save(tmp_path, smoke_user.SmokeUser(USER, PASSWORD))
    with Gateway(conversations=(500, {"success": False, "error": "Error retrieving conversations"})) as gw:
        code, report = smoke(SimpleNamespace(stack="staging", url=gw.url), runner)
    printed = capsys.readouterr().out
    assert code == 1 and report["ok"] is False
    assert "conversations   FAILED" in printed
    assert printed.rstrip().endswith("FAILED: conversations, messages")
    [entry] = Ledger(tmp_path).entries("smoke")
    assert entry["url"] == gw.url and [c["ok"] for c in entry["checks"]] == [True, True, True, False, False]
    assert "failed (conversations, messages)" in smoke_problem(Ledger(tmp_path), "staging")
    assert PASSWORD not in Ledger(tmp_path).path.read_text() + printed
    with Gateway() as gw:
        assert smoke(SimpleNamespace(stack="staging", url=gw.url), runner)[0] == 0
    assert smoke_problem(Ledger(tmp_path), "staging") is None


def test_a_refused_smoke_login_names_the_command_that_provisions_again(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("MEESHY_SMOKE_PASSWORD", raising=False)
    smoke_user.save(tmp_path, smoke_user.SmokeUser(USER, "stale-" + PASSWORD))
    with Gateway() as gw:
        code, _ = smoke(SimpleNamespace(stack="staging", url=gw.url),
                        SimpleNamespace(ledger=Ledger(tmp_path)))
    assert code == 1 and "`./meeshy smoke staging --provision`" in capsys.readouterr().err


def test_the_verb_without_a_smoke_user_says_how_to_get_one(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("MEESHY_SMOKE_PASSWORD", raising=False)
    code, report = smoke(SimpleNamespace(stack="staging", url="http://127.0.0.1:9"),
                         SimpleNamespace(ledger=Ledger(tmp_path)))
    assert (code, report) == (2, None)
    assert "no smoke user recorded for stack 'staging'" in capsys.readouterr().err
    assert list(Ledger(tmp_path).entries()) == []
