"""The rehearsal's interrupted switch: `python -m ops switch` run as operators run it, SIGKILLed
(ops alone, as a fault would) once its journal shows a phase started, under the rehearsal's
load; then only `status` and the one command it names. Reported as

    faults: [{phase, recoveredBy, acknowledged, lost, failed, keptInArchive, release, sentence,
              seconds: {untilKilled, status, recovery}}]

where `lost` counts acknowledged writes neither in the database production serves afterwards
nor in the archive a rollback kept them in (read back by id). `kill_in_phase` is also what the
end-to-end test of every phase uses (tests/e2e/test_switch_interrupted.py).
"""
from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

from bson import ObjectId

from config.locations import REPO_ROOT
from ops.rehearse import accounting

KILL_AFTER_START_SECONDS = 1.0


def read_journal(path: Path) -> dict:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return {}


def kill_in_phase(process: subprocess.Popen, journal: Path, phase: str, *,
                  after: float = KILL_AFTER_START_SECONDS, deadline_seconds: float = 600) -> str:
    """SIGKILL to `process` alone once its journal shows `phase` started; returns its run."""
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        entry = read_journal(journal)
        mine = entry.get("run", "").startswith(f"{process.pid}-")
        if mine and any(p["name"] == phase for p in entry.get("phases") or []):
            time.sleep(after)
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
            return entry["run"]
        if process.poll() is not None:
            raise RuntimeError(f"ops switch ended (exit {process.returncode}) before phase {phase}")
        time.sleep(0.1)
    raise RuntimeError(f"phase {phase} never started within {deadline_seconds:.0f} s")


def ops_argv(*words: str) -> list[str]:
    return [sys.executable, "-m", "ops", *words]


def _ops_json(words: list[str], out: Path, timeout: float = 1800) -> tuple[int, dict | None, str]:
    done = subprocess.run(ops_argv(*words, "--json", str(out)), cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=timeout)
    report = json.loads(out.read_text()) if out.is_file() else None
    return done.returncode, report, done.stdout + done.stderr


def kept_ids(recovered: dict | None, server=None, scratch: Path | None = None) -> set[str]:
    """The Message documents in the archive a rollback kept abandoned writes in, read from the
    file, named as archives name them (steps.data_check.id_key of the `_id`). On an SSH engine
    the archive is on the server: a copy in `scratch` is read."""
    from ops import backups, data_ops
    from steps.data_check import archive_document_hashes
    entry = (recovered or {}).get("abandonedWrites") or {}
    if not entry.get("keptIn") or not (entry.get("readBack") or {}).get("verified"):
        return set()
    path = Path(entry["keptIn"])
    if data_ops.on_remote_host(server):
        path = Path(scratch) / path.name
        backups.copy_archive(server, entry["keptIn"], path)
    return set(archive_document_hashes(path, entry["database"]).get("Message", {}))


def tally(db, writes: list, kept: set[str], found: set[str] | None = None) -> dict:
    """Acknowledged writes by id: in `db` (what production serves), else in the kept archive
    (`kept`: kept_ids), else lost. `found`, when given, gets the ids found either way."""
    from steps.data_check import id_key
    acked = [w.message_id for w in writes if w.outcome == "acknowledged"]
    present = set()
    for start in range(0, len(acked), 500):
        chunk = [ObjectId(i) for i in acked[start:start + 500]]
        present |= {str(d["_id"]) for d in db.Message.find({"_id": {"$in": chunk}}, {"_id": 1})}
    archived = {i for i in acked if i not in present and id_key(ObjectId(i)) in kept}
    lost = set(acked) - present - archived
    if found is not None:
        found |= present | archived
    return {"acknowledged": len(acked), "lost": len(lost), "lostIds": sorted(lost)[:20],
            "keptInArchive": len(archived),
            "failed": sum(1 for w in writes if w.outcome == "failed")}


def interrupted_switch(stack, settings: dict, phase: str, scratch: Path, *, client, log=print,
                       pairs: list | None = None, accounts: dict | None = None) -> dict:
    """One fault on `stack` (a RehearsalStack on its legacy release): the switch to `settings`
    killed in `phase`, recovered by the command `status` names. `client(stack)` opens a
    connection to its database server; the load posts as `pairs`, logged in as `accounts`."""
    from ops.automation import snapshots
    from ops.rehearse.under_load import load_on
    load = load_on(stack, f"fault {phase}", pairs, accounts)
    stack.write(settings)
    journal = stack.runner.ledger.root / "journal.json"
    load.start()
    clock, seconds = time.monotonic(), {}
    output = scratch / f"switch-{phase}.log"     # what the killed switch printed, kept
    try:
        with output.open("w") as printed:
            switch = subprocess.Popen(ops_argv("switch", stack.name, "--yes", "--unpreviewed"),
                                      cwd=REPO_ROOT, stdout=printed, stderr=subprocess.STDOUT)
        try:
            kill_in_phase(switch, journal, phase)
        except RuntimeError as early:
            raise RuntimeError(f"{early}: {output.read_text()[-600:].strip()}") from None
        seconds["untilKilled"] = round(time.monotonic() - clock, 1)
        _, seen, _ = _ops_json(["status", stack.name], scratch / f"status-{phase}.json")
        seconds["status"] = round(time.monotonic() - clock - seconds["untilKilled"], 1)
        words = shlex.split(seen.get("next") or "")
        log(f"rehearse: killed in {phase}; status: {seen.get('sentence')}")
        if words[:1] != ["./meeshy"]:
            raise RuntimeError(f"status named no command: {seen.get('sentence')}")
        code, recovered, output = _ops_json(words[1:], scratch / f"recover-{phase}.json")
        seconds["recovery"] = round(time.monotonic() - clock - sum(seconds.values()), 1)
        if code != 0:
            raise RuntimeError(f"`{seen['next']}` exited {code}: {output[-800:]}")
        time.sleep(1)     # a few writes on the recovered release
    finally:
        writes = load.stop()
    live = snapshots.current(stack.runner).settings
    from ops.backups import stack_server
    kept = kept_ids(recovered, stack_server(stack.runner)[0], scratch)
    with client(stack) as connection:
        counted = tally(connection[live.live_database], writes, kept)
    return {"phase": phase, "recoveredBy": seen["next"], "sentence": seen.get("sentence"),
            "release": live.release, "database": live.live_database, "seconds": seconds,
            **accounting.summary(writes), **counted}
