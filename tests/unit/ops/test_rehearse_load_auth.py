"""The load against both gateways it may meet in a rehearsal, through a loopback HTTPS server
that answers as the stand-in (no login route: 404; takes userId; 201 {data: {id}}) or as
Meeshy's real gateway (login 200 with a token, 401 without one, 200 in its {success, data}
envelope, 503 + Retry-After while busy), switching between them as releases do."""
from __future__ import annotations

import dataclasses
import json
import re
import socket
import ssl
import threading
import time
import urllib.parse

import pytest
from bson import ObjectId

from ops.rehearse.accounting import real_api
from ops.rehearse.load import LoadGenerator, read_history
from tests.support.bed_gateway import self_signed
from tests.support.json_http import JsonHandler, LoopbackServer

ALICE, BOB = str(ObjectId()), str(ObjectId())
SECRETS = {"alice": "pw-Alice-7f3a9c", "bob": "pw-Bob-41e2d8"}
ACCOUNTS = {ALICE: ("alice", SECRETS["alice"]), BOB: ("bob", SECRETS["bob"])}
CONV_A, CONV_B = ObjectId(), ObjectId()
_MESSAGES = re.compile(r"/api/v1/conversations/([^/?]+)/messages")


class Gateway(LoopbackServer):
    """`mode` "stand-in" or "meeshy"; `busy` answers 503 + Retry-After; `login_status` forces
    the login's answer; `revoke()` forgets every token (a new gateway, a new JWT secret)."""

    def __init__(self, cert: tuple, mode: str = "meeshy"):
        self.mode, self.busy, self.login_status, self.login_delay = mode, False, None, 0.0
        self.tokens: dict[str, str] = {}                   # token -> username
        self.logins: list[str] = []
        self.posts: list[dict] = []                        # {body, auth} of each post received
        self.stored: dict[str, list[str]] = {}             # conversation -> message ids
        self.lock = threading.Lock()
        self.serve(self._handler())
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*cert)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def revoke(self) -> None:
        self.tokens.clear()

    def login(self, body: dict) -> tuple[int, dict]:
        time.sleep(self.login_delay)     # a slow login widens the race of two threads
        with self.lock:
            self.logins.append(body.get("username"))
            if self.login_status:
                return self.login_status, {"success": False, "error": "boom"}
            if SECRETS.get(body.get("username")) != body.get("password"):
                return 401, {"success": False, "error": "Identifiants invalides"}
            token = f"jwt-{len(self.logins)}-{body['username']}"
            self.tokens[token] = body["username"]
            return 200, {"success": True, "data": {"token": token, "user": {}}}

    def post(self, conversation: str, body: dict, auth: str | None) -> tuple[int, dict]:
        with self.lock:
            self.posts.append({"body": body, "auth": auth})
            if self.mode == "meeshy" and (auth or "").removeprefix("Bearer ") not in self.tokens:
                return 401, {"success": False, "error": "Authentication required"}
            message_id = str(ObjectId())
            self.stored.setdefault(conversation, []).append(message_id)
            if self.mode == "stand-in":
                return 201, {"data": {"id": message_id}}
            return 200, {"success": True, "data": {"id": message_id, "content": body["content"]}}

    def _handler(self):
        gateway = self

        class Handler(JsonHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = json.loads(raw or b"{}")
                if gateway.busy:
                    return self._answer(503, {"error": "maintenance"}, {"Retry-After": "30"})
                found = _MESSAGES.fullmatch(self.path)
                if self.path == "/api/v1/auth/login" and gateway.mode == "meeshy":
                    return self._answer(*gateway.login(body))
                if not found:
                    return self._answer(404, {"error": "not found"})
                self._answer(*gateway.post(found.group(1), body, self.headers.get("Authorization")))

            def do_GET(self):
                path = urllib.parse.urlsplit(self.path).path
                found = _MESSAGES.fullmatch(path)
                auth = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
                if not found or auth not in gateway.tokens:
                    return self._answer(401, {"success": False})
                listed = [{"id": i} for i in gateway.stored.get(found.group(1), [])]
                self._answer(200, {"success": True, "data": listed})

        return Handler


@pytest.fixture(scope="module")
def cert(tmp_path_factory):
    return self_signed(tmp_path_factory.mktemp("tls"))


def load_for(gateway: Gateway, accounts=ACCOUNTS, **kwargs) -> LoadGenerator:
    pairs = [(CONV_A, ObjectId(ALICE)), (CONV_B, ObjectId(BOB))]
    return LoadGenerator(gateway.port, "gate.example", pairs, tag="t", accounts=accounts,
                         interval_seconds=1.0, **kwargs)


def send(load: LoadGenerator, user: str, conversation=CONV_A):
    return load.post(conversation, ObjectId(user), "hello")


def test_each_user_logs_in_once_and_posts_with_its_token(cert):
    with Gateway(cert) as gateway:
        load = load_for(gateway)
        writes = [send(load, user) for user in (ALICE, BOB, ALICE, BOB, ALICE)]
    assert gateway.logins == ["alice", "bob"]
    assert [(w.status, w.outcome, w.api) for w in writes] == [(200, "acknowledged", "meeshy")] * 5
    assert [gateway.tokens.get(p["auth"].removeprefix("Bearer ")) for p in gateway.posts] == \
        ["alice", "bob", "alice", "bob", "alice"]
    bodies = [p["body"] for p in gateway.posts]
    assert [b["userId"] for b in bodies] == [ALICE, BOB, ALICE, BOB, ALICE]
    assert all(b["originalLanguage"] == "en" and b["content"] == "hello" for b in bodies)
    ids = [b["clientMessageId"] for b in bodies]
    assert len(set(ids)) == 5 and all(re.fullmatch(r"cid_[0-9a-f-]{36}", i) for i in ids)


def test_two_threads_writing_for_one_user_log_it_in_once(cert):
    with Gateway(cert) as gateway:
        gateway.login_delay = 0.3
        load = LoadGenerator(gateway.port, "gate.example", [(CONV_A, ObjectId(ALICE))] * 2, tag="t",
                             accounts=ACCOUNTS, threads=2, interval_seconds=1.0, max_writes=4)
        load.start()
        deadline = time.monotonic() + 10
        while len(load.writes) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        writes = load.stop()
    assert gateway.logins == ["alice"]
    assert len(writes) >= 4 and {w.outcome for w in writes} == {"acknowledged"}


def test_a_401_drops_the_token_and_the_next_write_logs_in_again(cert):
    with Gateway(cert) as gateway:
        load = load_for(gateway)
        first = send(load, ALICE)
        gateway.revoke()                 # the release's gateway no longer takes the old token
        refused, again = send(load, ALICE), send(load, ALICE)
    assert first.outcome == "acknowledged"
    assert (refused.status, refused.outcome, refused.reason, refused.api) == (401, "failed", "HTTP 401", None)
    assert again.outcome == "acknowledged" and gateway.logins == ["alice", "alice"]
    assert gateway.posts[-1]["auth"] != gateway.posts[0]["auth"]


def test_a_login_told_to_retry_is_refused_and_a_login_error_failed(cert):
    with Gateway(cert) as gateway:
        load = load_for(gateway)
        gateway.busy = True
        busy = send(load, ALICE)
        gateway.busy, gateway.login_status = False, 500
        broken = send(load, ALICE)
        gateway.login_status = None
        taken = send(load, ALICE)
    assert (busy.status, busy.outcome, busy.message_id) == (503, "refused", None)
    assert (broken.status, broken.outcome, broken.reason) == (500, "failed", "login: HTTP 500")
    assert taken.outcome == "acknowledged"
    assert len(gateway.posts) == 1       # neither the refused nor the failed login posted
    assert busy.answered >= busy.at


def test_no_answer_to_the_login_is_a_failure_named_by_its_error():
    with socket.socket() as probe:       # a port nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    load = LoadGenerator(port, "gate.example", [(CONV_A, ObjectId(ALICE))], tag="t",
                         accounts=ACCOUNTS, interval_seconds=1.0)
    write = send(load, ALICE)
    assert (write.status, write.outcome) == (None, "failed")
    assert write.reason.startswith("login: ") and "Error" in write.reason


def test_the_stand_in_is_posted_to_without_a_token_and_the_switch_to_meeshy_logs_in(cert):
    with Gateway(cert, mode="stand-in") as gateway:
        load = load_for(gateway)
        legacy = [send(load, ALICE), send(load, BOB)]
        gateway.mode = "meeshy"          # the switch: the target release runs the real gateway
        target = [send(load, ALICE), send(load, ALICE)]
        gateway.mode = "stand-in"        # the rollback: the token is still held, and ignored
        back = send(load, ALICE)
    assert [(w.status, w.api) for w in legacy] == [(201, "stand-in")] * 2
    assert [p["auth"] for p in gateway.posts[:2]] == [None, None]
    assert [(w.status, w.api) for w in target] == [(200, "meeshy")] * 2
    assert gateway.logins == ["alice"]   # one login on the real gateway for its two writes
    assert (back.status, back.outcome, back.api) == (201, "acknowledged", "stand-in")


def test_without_accounts_no_login_is_tried(cert):
    with Gateway(cert, mode="stand-in") as gateway:
        write = send(load_for(gateway, accounts=None), ALICE)
    assert write.outcome == "acknowledged" and gateway.logins == [] and len(gateway.posts) == 1
    assert gateway.posts[0]["auth"] is None


def test_the_real_apis_writes_are_read_back_by_id_with_the_held_token(cert):
    with Gateway(cert, mode="stand-in") as gateway:
        load = load_for(gateway)
        writes = [send(load, ALICE)]
        gateway.mode = "meeshy"
        writes += [send(load, ALICE) for _ in range(3)]
        status, ids = read_history(load, ALICE, str(CONV_A), limit=50)
        logins = list(gateway.logins)
    assert status == 200 and logins == ["alice"]          # the read reused the write's token
    assert real_api(writes, set(ids)) == {"acknowledged": 3, "found": 3}
    assert real_api(writes, set(ids[:2])) == {"acknowledged": 3, "found": 1}


def test_read_history_logs_in_when_no_token_is_held(cert):
    with Gateway(cert) as gateway:
        load = load_for(gateway)
        status, ids = read_history(load, BOB, str(CONV_B))
    assert (status, ids, gateway.logins) == (200, [], ["bob"])


def test_no_password_shows_in_the_loads_repr_or_its_writes(cert):
    with Gateway(cert) as gateway:
        load = load_for(gateway)
        writes = [send(load, ALICE)]
        gateway.revoke()
        writes.append(send(load, ALICE))
        gateway.login_status = 401
        writes.append(send(load, BOB))
        gateway.busy = True
        writes.append(send(load, BOB))
    assert {w.outcome for w in writes} == {"acknowledged", "failed", "refused"}
    shown = repr(load) + repr(load.sessions) + "".join(repr(dataclasses.astuple(w)) for w in writes)
    assert not any(secret in shown for secret in SECRETS.values())
    assert "accounts" not in repr(load)


def test_accounts_keep_the_load_under_the_real_gateways_rate_limit(cert):
    pairs = [(CONV_A, ObjectId(ALICE))]
    with pytest.raises(ValueError, match="at most 3 writes a second"):
        LoadGenerator(1, "gate.example", pairs, tag="t", accounts=ACCOUNTS)   # 2 threads, 0.2 s
    LoadGenerator(1, "gate.example", pairs, tag="t")                          # today's load
