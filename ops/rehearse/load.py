"""A small load generator for rehearsals: a few threads post messages through a stack's gateway
(Traefik's published https port on 127.0.0.1, with the gateway's Host header, the way users
reach it: the http port only redirects to https) and record every write's outcome. Bounded in
count and time, it stops by itself.

Outcomes (ops/rehearse/accounting.py `outcome_of`): `acknowledged` (201, the message id
kept), `refused` (503 with Retry-After: the platform says "not now, retry then"), `failed` (any
other answer, a 503 without Retry-After, or no answer: counted with its reason). Each write
records the rehearsal step it was sent in and when its answer came.
"""
from __future__ import annotations

import json
import ssl
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from bson import ObjectId

from ops.rehearse.accounting import outcome_of

LOOPBACK = "127.0.0.1"
REQUEST_TIMEOUT_SECONDS = 5.0


def _loopback_tls() -> ssl.SSLContext:
    """Traefik answers a rehearsal host with its own generated certificate (no ACME without a
    domain): it is not verified, which is safe only because the peer is 127.0.0.1."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


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

    def __post_init__(self) -> None:
        if not self.pairs:
            raise ValueError("the load generator needs at least one conversation to post in")
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
        body = json.dumps({"userId": str(user), "content": content}).encode()
        request = urllib.request.Request(
            f"https://{LOOPBACK}:{self.port}/api/v1/conversations/{conversation}/messages",
            data=body, method="POST",
            headers={"Host": self.host, "Content-Type": "application/json"})
        at = time.time()
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_SECONDS,
                                        context=_loopback_tls()) as answer:
                status, payload, retry_after = answer.status, answer.read(), None
        except urllib.error.HTTPError as error:
            status, payload = error.code, error.read()
            retry_after = error.headers.get("Retry-After") if error.headers else None
        except (OSError, urllib.error.URLError) as error:
            return Write(at, None, "failed", conversation=str(conversation),
                         reason=type(error).__name__, answered=time.time())
        answered = time.time()
        outcome, reason = outcome_of(status, retry_after)
        message_id = None
        if outcome == "acknowledged":
            message_id = str((json.loads(payload or b"{}").get("data") or {}).get("id"))
        return Write(at, status, outcome, message_id, str(conversation), reason, answered)


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
    """(status, the conversation's newest messages) as the gateway serves them."""
    request = urllib.request.Request(
        f"https://{LOOPBACK}:{load.port}/api/v1/conversations/{conversation}/messages?limit={limit}",
        headers={"Host": load.host})
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_SECONDS,
                                    context=_loopback_tls()) as answer:
            return answer.status, json.loads(answer.read() or b"{}").get("data") or []
    except urllib.error.HTTPError as error:
        return error.code, []
    except (OSError, urllib.error.URLError):
        return None, []
