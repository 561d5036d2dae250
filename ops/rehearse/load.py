"""A small load generator for rehearsals: a few threads post messages through a stack's gateway
(Traefik's published https port on 127.0.0.1, with the gateway's Host header, the way users
reach it: the http port only redirects to https) and record every write's outcome. Bounded in
count and time, it stops by itself.

The gateway may be the stand-in (takes `userId`, answers 201) or Meeshy's real one (needs a
user's token, answers 200 in its {success, data} envelope): given `accounts`, each user logs in
when it holds no token (ops/rehearse/load_auth.py), and a 404 on the login says the stand-in
serves. Every body carries `userId` (the stand-in's sender; the real gateway ignores it) and a
fresh `clientMessageId` (the real gateway's idempotency key).

Outcomes (ops/rehearse/accounting.py `judged`): `acknowledged` (200 or 201 with the message id,
kept), `refused` (503 with Retry-After, to the login or the post: the platform says "not now,
retry then"), `failed` (any other answer, a success without an id, a 503 without Retry-After,
or no answer: counted with its reason). Each write records the rehearsal step it was sent in,
when its answer came and which gateway acknowledged it (`api`).
"""
from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field

from bson import ObjectId

from ops.rehearse.accounting import judged
from ops.rehearse.load_auth import REQUEST_TIMEOUT_SECONDS, Sessions, exchange

MESSAGES = "/api/v1/conversations/{}/messages"
# The real gateway allows 300 requests a minute per client IP, and the whole load reaches it
# from one (Traefik's): with accounts the load keeps well under 5 requests a second.
MAX_WRITES_PER_SECOND_WITH_ACCOUNTS = 3.0


@dataclass
class Write:
    at: float              # time.time() when the request was sent
    status: int | None     # HTTP status, None when no answer came
    outcome: str           # acknowledged | refused | failed
    message_id: str | None = None
    conversation: str | None = None
    reason: str | None = None
    answered: float | None = None   # time.time() when the answer (or the error) came
    step: str | None = None         # the rehearsal step it was sent in
    api: str | None = None          # who acknowledged it: "meeshy" | "stand-in" (None otherwise)


def posters(db, limit: int = 8) -> list[tuple[ObjectId, ObjectId]]:
    """(conversation, user) pairs that may post in the legacy schema and keep doing so once
    migrated: an active, sending membership held once, of an active user with clean fields, in
    an active conversation (the generated data's defects would quarantine the others)."""
    found, seen = [], set()
    for member in db.ConversationMember.find({"isActive": True, "canSendMessage": True}).limit(2000):
        conv, user = member.get("conversationId"), member.get("userId")
        if not (isinstance(conv, ObjectId) and isinstance(user, ObjectId)) or conv in seen:
            continue
        same = {"conversationId": conv, "userId": {"$in": [user, str(user)]}}
        if db.ConversationMember.count_documents(same) != 1:
            continue
        conversation = db.Conversation.find_one({"_id": conv})
        person = db.User.find_one({"_id": user})
        if not _clean(conversation) or not _clean(person) or not _clean(member):
            continue
        seen.add(conv)
        found.append((conv, user))
        if len(found) == limit:
            break
    return found


def _clean(doc: dict | None) -> bool:
    if not doc or doc.get("isActive") is not True:
        return False
    return not any(isinstance(v, str) and k.endswith("At") for k, v in doc.items())


@dataclass
class LoadGenerator:
    port: int
    host: str
    pairs: list[tuple[ObjectId, ObjectId]]
    tag: str
    threads: int = 2
    interval_seconds: float = 0.2        # per thread: about 10 writes a second in all
    max_seconds: float = 900.0
    max_writes: int = 20000
    writes: list[Write] = field(default_factory=list)
    step: str | None = None              # set by the rehearsal as each step starts
    # user id -> (username, password) for a gateway that needs logins; never shown
    accounts: dict[str, tuple[str, str]] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.pairs:
            raise ValueError("the load generator needs at least one conversation to post in")
        rate = self.threads / self.interval_seconds if self.interval_seconds > 0 else float("inf")
        if self.accounts and rate > MAX_WRITES_PER_SECOND_WITH_ACCOUNTS:
            raise ValueError(f"with accounts the load may post at most "
                             f"{MAX_WRITES_PER_SECOND_WITH_ACCOUNTS:g} writes a second (the real "
                             f"gateway's limit per client IP), not {rate:g}")
        self.sessions = Sessions(self.port, self.host, self.accounts) if self.accounts else None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._workers: list[threading.Thread] = []

    def start(self) -> "LoadGenerator":
        if self._workers:
            return self
        self._deadline = time.monotonic() + self.max_seconds
        for n in range(self.threads):
            worker = threading.Thread(target=self._run, args=(n,), daemon=True, name=f"load-{n}")
            worker.start()
            self._workers.append(worker)
        return self

    @property
    def running(self) -> bool:
        return bool(self._workers) and not self._stop.is_set()

    def stop(self) -> list[Write]:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=REQUEST_TIMEOUT_SECONDS + 5)
        return list(self.writes)

    def _run(self, n: int) -> None:
        seq = 0
        while not self._stop.is_set() and time.monotonic() < self._deadline:
            with self._lock:
                if len(self.writes) >= self.max_writes:
                    return
            conv, user = self.pairs[(n + seq * self.threads) % len(self.pairs)]
            step = self.step
            write = self.post(conv, user, f"{self.tag} w{n}-{seq}")
            write.step = step
            with self._lock:
                self.writes.append(write)
            seq += 1
            self._stop.wait(self.interval_seconds)

    def post(self, conversation: ObjectId, user: ObjectId, content: str) -> Write:
        at, conv, token = time.time(), str(conversation), None
        if self.sessions and self.sessions.knows(str(user)):
            login = self.sessions.token(str(user))
            if login.outcome:       # refused or failed at the login: the message was not sent
                return Write(at, login.status, login.outcome, conversation=conv,
                             reason=login.reason, answered=time.time())
            token = login.token
        body = {"userId": str(user), "content": content, "originalLanguage": "en",
                "clientMessageId": f"cid_{uuid.uuid4()}"}
        try:
            reply = exchange(self.port, self.host, "POST", MESSAGES.format(conv), body, token)
        except OSError as error:
            return Write(at, None, "failed", conversation=conv, reason=type(error).__name__,
                         answered=time.time())
        answered = time.time()
        if reply.status == 401 and token:
            self.sessions.drop(str(user), token)    # the next write for this user logs in again
        outcome, reason, message_id, api = judged(reply.status, reply.retry_after, reply.body)
        return Write(at, reply.status, outcome, message_id, conv, reason, answered, api=api)


def missing_writes(db, writes: list[Write]) -> dict:
    """Which acknowledged writes the database lacks, and which present ones are not in the
    target shape (a legacy `isDeleted` left, or a sender that is not a Participant)."""
    acked = [ObjectId(w.message_id) for w in writes if w.outcome == "acknowledged"]
    found = {}
    for start in range(0, len(acked), 500):
        for doc in db.Message.find({"_id": {"$in": acked[start:start + 500]}},
                                   {"isDeleted": 1, "senderId": 1}):
            found[doc["_id"]] = doc
    senders = {d.get("senderId") for d in found.values()}
    participants = {p["_id"] for p in db.Participant.find({"_id": {"$in": list(senders)}}, {"_id": 1})}
    unmigrated = [str(i) for i, d in found.items()
                  if "isDeleted" in d or d.get("senderId") not in participants]
    lost = [str(i) for i in acked if i not in found]
    return {"acknowledged": len(acked), "present": len(found), "lost": len(lost),
            "lostIds": lost[:20], "notMigrated": len(unmigrated), "notMigratedIds": unmigrated[:20]}


def list_messages(load: LoadGenerator, conversation: str, limit: int = 100) -> tuple[int | None, list]:
    """(status, the conversation's newest messages) as the stand-in serves them (no token)."""
    try:
        reply = exchange(load.port, load.host, "GET", f"{MESSAGES.format(conversation)}?limit={limit}")
    except OSError:
        return None, []
    data = reply.body.get("data") if reply.status == 200 and isinstance(reply.body, dict) else None
    return reply.status, data if isinstance(data, list) else []


# Meeshy's gateway lists a conversation's messages in 2 to 5 s at x1 on DocumentDB and 5 to 24 s
# at x10 (an idle machine; over 30 s under the rehearsal's load): the time grows with the whole
# data, not the conversation's. The read waits for it; the report gives its seconds.
READ_TIMEOUT_SECONDS = 90.0


def read_history(load: LoadGenerator, user_id: str, conversation: str,
                 limit: int = 100) -> tuple[int | None, list[str]]:
    """(status, ids of the conversation's newest messages) read through Meeshy's real API with
    `user_id`'s token (held by the load, or a login when none is): shows the messages written
    before and after the switch are served back through the gateway, not only stored."""
    if not load.sessions or not load.sessions.knows(user_id):
        raise ValueError("read_history needs the load's account of that user")
    login = load.sessions.token(user_id)
    if login.outcome or not login.token:
        return login.status, []     # refused, failed, or a stand-in (no login route)
    try:
        reply = exchange(load.port, load.host, "GET", f"{MESSAGES.format(conversation)}?limit={limit}",
                         token=login.token, timeout=READ_TIMEOUT_SECONDS)
    except OSError:
        return None, []
    if reply.status == 401:
        load.sessions.drop(user_id, login.token)
    data = reply.body.get("data") if reply.status == 200 and isinstance(reply.body, dict) else None
    if isinstance(data, dict):      # the real gateway may list them under data.messages
        data = data.get("messages")
    listed = data if isinstance(data, list) else []
    return reply.status, [str(m["id"]) for m in listed if isinstance(m, dict) and m.get("id")]
