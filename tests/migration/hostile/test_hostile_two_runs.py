"""Two real `python -m migration run` processes against one target (FerretDB): the first is
paused past its lease's duration while writing, the second takes the target over and finishes;
the first, resumed, is refused by the database at its next write and writes nothing more."""
import json
import os
import signal
import subprocess
import sys
import time

from migration.engine.verification.verify import content_hash
from tests.support import toy_chain
from tests.support.cli_runner import REPO_ROOT, migration_cli, migration_env

LEASE_SECONDS = 1.0


def _bookkeeping(target) -> dict:
    """The run, steps and progress records (the lease aside: it comes and goes)."""
    return {d["_id"]: json.dumps(d, default=str, sort_keys=True)
            for d in target["_migrations"].find({"_id": {"$ne": "lease"}})}


def _wait_until_writing(target, proc) -> None:
    """Until the first run has checkpointed a few batches of its first collection."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        progress = target["_migrations"].find_one({"_id": {"$regex": "^progress:"}}) or {}
        if progress.get("counts", {}).get("documents", 0) >= 6:
            return
        time.sleep(0.02)
    raise AssertionError(f"the first run never wrote 3 batches (exit {proc.poll()})")


def test_a_taken_over_run_stops_at_its_next_write(ferretdb, fresh_db, tmp_path):
    client = ferretdb.client()
    source, target = client[fresh_db("src")], client[fresh_db("tgt")]
    toy_chain.make_source(source, people=200)
    args = ["run", "--source", ferretdb.uri(source.name), "--target", ferretdb.uri(target.name),
            "--batch-size", "2"]
    first = subprocess.Popen([sys.executable, "-m", "migration", *args, "--lease-seconds",
                              str(LEASE_SECONDS), "--json", str(tmp_path / "first.json")],
                             cwd=REPO_ROOT, env=migration_env("tests.support.toy_chain"),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_until_writing(target, first)
        os.kill(first.pid, signal.SIGSTOP)          # a stall: no heartbeat, no write
        time.sleep(LEASE_SECONDS * 2)
        second = migration_cli(*args, "--json", tmp_path / "second.json")
        assert second.returncode == 0, second.stdout + second.stderr
        report = json.loads((tmp_path / "second.json").read_text())
        assert "its last heartbeat was" in report["lease"] and report["ok"] is True
        after_second = _bookkeeping(target)
        data = {n: content_hash(target[n]) for n in ("Person", "Squad", "Member", "Post")}
    finally:
        if first.poll() is None:
            os.kill(first.pid, signal.SIGCONT)
    out, err = first.communicate(timeout=120)
    assert first.returncode == 1, out + err
    assert "lost its lease" in err and "nothing more was written" in err, err
    assert "Traceback" not in err
    # Not one checkpoint of the first run after the takeover; the data the second run verified
    # is as it left it, and checks again.
    assert _bookkeeping(target) == after_second
    assert {n: content_hash(target[n]) for n in data} == data
    verify = migration_cli("verify", "--source", ferretdb.uri(source.name), "--target",
                           ferretdb.uri(target.name))
    assert verify.returncode == 0, verify.stdout + verify.stderr
    client.close()
