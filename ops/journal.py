"""The switch journal: what a switch planned and how far it got, outside Pulumi's state.

`<ledger root>/journal.json` is rewritten (atomically: a temporary file renamed over it) as a
switch or rollback opens, as each phase starts and ends, and as it finishes:

    {"kind": "switch", "opId", "run": "<pid>-<start ticks>", "pid", "started",
     "fromVersion", "fromRelease", "release", "plan": [phase names], "stackFileSha256",
     "phases": [{"name", "started", "ended", "ok", "version"}], "finished": null | {"result", "at"},
     "takeover": {"auditDir", "composeProject", "recordsBefore"}, "takeoverOpId"}   # takeover only

A journal whose `finished` is null and whose process is dead is an interrupted operation:
`./meeshy status` names it, `switch` resumes it from its first phase not ended ok, `rollback`
undoes exactly it (ops/switch/recover.py). A takeover switch (plan `takeover` first) is never
resumed: `rollback` undoes it, giving production back to compose (ops/switch/takeover_undo.py).
The ledger keeps the history; this file only the last operation.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from ops import processes
from ops.automation.ledger import now_iso

FILE = "journal.json"
PREVIEW_FILE = "previewed.json"


def doc_sha256(doc) -> str:
    """What a resumed switch checks the stack file against: its configuration as written."""
    return hashlib.sha256(doc.text().encode()).hexdigest()


def record_preview(root: Path, doc) -> None:
    """What the last `preview` showed the operator: the stack file it read."""
    path = Path(root) / PREVIEW_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"stackFileSha256": doc_sha256(doc), "at": now_iso()}))


def changed_since_preview(root: Path, doc) -> str | None:
    """When the last preview was of another stack file, when that was (None: same, or none)."""
    try:
        seen = json.loads((Path(root) / PREVIEW_FILE).read_text())
    except (OSError, ValueError):
        return None
    return None if seen.get("stackFileSha256") == doc_sha256(doc) else f"previewed at {seen.get('at')}"


class Journal:
    def __init__(self, root: Path):
        self.path = Path(root) / FILE
        self.entry: dict | None = None

    def read(self) -> dict | None:
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError):
            return None

    def _write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        scratch = self.path.with_suffix(".tmp")
        scratch.write_text(json.dumps(self.entry, indent=2, sort_keys=True, default=str))
        os.replace(scratch, self.path)

    def begin(self, kind: str, op_id: str, *, plan: list[str], resumed_from: dict | None = None,
              **facts) -> dict:
        """Opens the journal of a new operation (or of one resuming `resumed_from`, whose
        phases ended ok it keeps)."""
        self.entry = {"kind": kind, "opId": op_id, "run": processes.identity(), "pid": os.getpid(),
                      "started": now_iso(), "plan": list(plan), "finished": None,
                      "phases": [p for p in (resumed_from or {}).get("phases") or [] if p.get("ok")],
                      **facts}
        if resumed_from is not None:
            self.entry["resumes"] = resumed_from.get("run")
            self.entry["started"] = resumed_from.get("started") or self.entry["started"]
            self.entry["resumedAt"] = now_iso()
        self._write()
        return self.entry

    def note(self, **facts) -> None:
        """Facts learnt while a phase runs (the takeover's record once it exists)."""
        self.entry.update(facts)
        self._write()

    def phase_started(self, name: str) -> None:
        self.entry["phases"].append({"name": name, "started": now_iso(), "ended": None, "ok": None})
        self._write()

    def phase_ended(self, name: str, ok: bool, version: int | None = None) -> None:
        for record in reversed(self.entry["phases"]):
            if record["name"] == name and record["ended"] is None:
                record.update(ended=now_iso(), ok=ok, version=version)
                break
        self._write()

    def finish(self, result: str, **facts) -> None:
        self.entry["finished"] = {"result": result, "at": now_iso(), **facts}
        self._write()


def seconds_since(iso: str) -> float:
    """Wall-clock seconds since an ISO timestamp of the journal (0 when it cannot be read)."""
    import datetime as dt
    try:
        return max(0.0, (dt.datetime.now(dt.timezone.utc) - dt.datetime.fromisoformat(iso)).total_seconds())
    except (TypeError, ValueError):
        return 0.0


def interrupted(entry: dict | None) -> bool:
    """An operation that never finished and whose process is gone."""
    return bool(entry) and entry.get("finished") is None and not processes.alive(entry.get("run"))


def running(entry: dict | None) -> bool:
    return bool(entry) and entry.get("finished") is None and processes.alive(entry.get("run"))


def phases_done(entry: dict) -> list[str]:
    """Phases of the plan ended ok, in order, up to the first that did not."""
    ended = {p["name"] for p in entry.get("phases") or [] if p.get("ok")}
    done = []
    for name in entry.get("plan") or []:
        if name not in ended:
            break
        done.append(name)
    return done


def phase_in_flight(entry: dict) -> str | None:
    """The phase that had started and not ended when the operation stopped."""
    for record in reversed(entry.get("phases") or []):
        if record.get("ended") is None:
            return record["name"]
    return None


def next_phase(entry: dict) -> str | None:
    plan, done = entry.get("plan") or [], phases_done(entry)
    return plan[len(done)] if len(done) < len(plan) else None
