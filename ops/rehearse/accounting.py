"""What the rehearsal's load saw, accounted as its users would: every write's answer, the window
a client waited through, and each step's writes (matched by id afterwards: ops/rehearse/faults.py
`tally`).

A definite answer is a 200 or 201 carrying the message's id (acknowledged: the stand-in answers
201 {data: {id}}, Meeshy's real gateway 200 {success: true, data: {id}} or {data: {message:
{id}}}) or a 503 with Retry-After (refused: the platform says "not now, come back then", and the
client knows its message was not taken). Anything else leaves the user without an answer and is
`failed`, with its reason: another status (a 502 or a 404 while Traefik swaps containers, a 401
for a token the gateway no longer takes), a success without the message's id, a 503 without
Retry-After (Traefik with no server left to route to), a timeout, a reset.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

OUTCOMES = ("acknowledged", "refused", "failed")


def outcome_of(status: int, retry_after: str | None) -> tuple[str, str | None]:
    """(outcome, reason) of one HTTP answer's status: a 200 or 201 is `acknowledged` here, and
    stays so only when its body carries the message's id (`judged`)."""
    if status in (200, 201):
        return "acknowledged", None
    if status == 503 and retry_after and retry_after.strip():
        return "refused", None
    if status == 503:
        return "failed", "HTTP 503 without Retry-After"
    return "failed", f"HTTP {status}"


def judged(status: int, retry_after: str | None,
           body: Any) -> tuple[str, str | None, str | None, str | None]:
    """(outcome, reason, message id, api) of one answer to a write. `api` says who acknowledged
    it: "meeshy" for the real gateway's envelope ({success: true, ...}), "stand-in" otherwise."""
    outcome, reason = outcome_of(status, retry_after)
    if outcome != "acknowledged":
        return outcome, reason, None, None
    data = body.get("data") if isinstance(body, dict) else None
    if isinstance(data, dict) and isinstance(data.get("message"), dict):
        data = data["message"]
    message_id = data.get("id") if isinstance(data, dict) else None
    if not message_id:
        # A success the client cannot match to its message: nothing to find it by afterwards.
        return "failed", f"HTTP {status} without a message id", None, None
    api = "meeshy" if body.get("success") is True else "stand-in"
    return "acknowledged", None, str(message_id), api


def real_api(writes: list, found_ids: set[str]) -> dict:
    """The writes Meeshy's real gateway acknowledged, and how many of them it served back by id
    (`found_ids`: the ids read through its API, ops/rehearse/load.py `read_history`)."""
    mine = [w for w in writes if w.outcome == "acknowledged" and w.api == "meeshy"]
    return {"acknowledged": len(mine), "found": sum(1 for w in mine if w.message_id in found_ids)}


def _iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).isoformat()


def client_window(writes: list) -> dict:
    """The time a client's writes were not taken: from the sending of the first write not
    acknowledged to the answer of the first write acknowledged after the last one not
    acknowledged (in the order they were sent). `closed` is False when no write was
    acknowledged after it: the window then ends at the last answer and is a lower bound.
    `gaps` are its runs of writes not acknowledged, acknowledged writes between them."""
    ordered = sorted(writes, key=lambda w: w.at)
    missed = [i for i, w in enumerate(ordered) if w.outcome != "acknowledged"]
    if not missed:
        return {"seconds": 0.0, "notAcknowledged": 0, "gaps": 0}
    first, last = ordered[missed[0]], missed[-1]
    after = next((w for w in ordered[last + 1:] if w.outcome == "acknowledged"), None)
    end = _answered(after) if after else max(_answered(w) for w in ordered)
    return {"start": _iso(first.at), "end": _iso(end), "seconds": round(end - first.at, 3),
            "closed": after is not None, "notAcknowledged": len(missed),
            "gaps": sum(1 for a, b in zip(missed, missed[1:]) if b != a + 1) + 1}


def _answered(write) -> float:
    return write.answered if write.answered is not None else write.at


def summary(writes: list) -> dict:
    """Counts by outcome, the failures' reasons and the client's window."""
    counts = {outcome: 0 for outcome in OUTCOMES}
    reasons: dict[str, int] = {}
    for write in writes:
        counts[write.outcome] += 1
        if write.outcome == "failed":
            reason = write.reason or "no answer"
            reasons[reason] = reasons.get(reason, 0) + 1
    return {"writes": len(writes), **counts, "failedReasons": reasons,
            "clientWindow": client_window(writes)}


def by_step(writes: list) -> dict[str, dict]:
    """summary() of the writes sent in each step, in the order the steps came."""
    steps: dict[str, list] = {}
    for write in sorted(writes, key=lambda w: w.at):
        steps.setdefault(write.step or "unnamed", []).append(write)
    return {step: summary(mine) for step, mine in steps.items()}
