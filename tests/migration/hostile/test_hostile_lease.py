"""One run at a time per target: a live lease refuses a second run, a stale one (expired
heartbeat, or a dead process of this host) is taken over and the report says so."""
import datetime as dt
import json
import os
import socket
import subprocess
import sys
import time

import pytest

from migration.engine.target import checkpoint
from migration.engine.target.lease import Lease, LeaseHeld, LeaseLost
from tests.support.cli_runner import migration_cli
from tests.support.migration_helpers import fingerprint


def _lease(target, host, pid, beat_age_seconds):
    beat = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=beat_age_seconds)
    target["_migrations"].insert_one({"_id": "lease", "owner": f"{host}:{pid}:test",
                                      "host": host, "pid": pid, "started_at": beat,
                                      "heartbeat_at": beat, "seconds": 60})


def _run(source_uri, target_uri, report):
    return migration_cli("run", "--source", source_uri, "--target", target_uri,
                         "--json", report)


def test_a_live_lease_refuses_a_second_run(toy_dbs, tmp_path):
    _, _, target, source_uri, target_uri = toy_dbs
    _lease(target, socket.gethostname(), os.getpid(), 1)  # this test process: alive
    before = fingerprint(target)
    result = _run(source_uri, target_uri, tmp_path / "r.json")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "another run holds the target" in result.stderr and f":{os.getpid()}:" in result.stderr
    assert "Traceback" not in result.stderr and fingerprint(target) == before
    status = migration_cli("status", "--target", target_uri)
    assert status.returncode == 0 and "a run holds the target" in status.stdout


@pytest.mark.parametrize("how", ["expired heartbeat", "dead process"])
def test_a_stale_lease_is_taken_over_and_reported(toy_dbs, tmp_path, how):
    _, _, target, source_uri, target_uri = toy_dbs
    if how == "expired heartbeat":
        _lease(target, "elsewhere.example", 4242, 600)
        expected = "its last heartbeat was"
    else:
        gone = subprocess.Popen([sys.executable, "-c", "pass"])
        gone.wait()
        _lease(target, socket.gethostname(), gone.pid, 1)
        expected = f"its process {gone.pid} on this host no longer exists"
    result = _run(source_uri, target_uri, tmp_path / "r.json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["lease"].startswith("took over the lease of") and expected in report["lease"]
    assert "lease: took over" in result.stdout
    assert target["_migrations"].find_one({"_id": "lease"}) is None  # released at the end


def test_a_run_that_lost_its_lease_writes_nothing_more(toy_dbs):
    _, _, target, _, _ = toy_dbs
    lease = Lease(target, seconds=0.4).acquire()
    try:
        with pytest.raises(LeaseHeld, match="another run holds the target"):
            Lease(target).acquire()
        target["_migrations"].update_one({"_id": "lease"}, {"$set": {"owner": "thief"}})
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and lease._lost is None:
            time.sleep(0.05)
        with pytest.raises(LeaseLost, match="another run took the lease over"):
            lease.check()
    finally:
        lease.release()
    assert target["_migrations"].find_one({"_id": "lease"})["owner"] == "thief"


def test_a_checkpoint_under_an_earlier_fence_is_refused_in_its_own_write(toy_dbs):
    """The condition travels with the write: a run whose lease was taken over cannot overwrite
    its successor's checkpoint, whatever its own view of the lease."""
    _, _, target, _, _ = toy_dbs
    first = Lease(target).acquire()
    first.release()
    second = Lease(target).acquire()
    second.release()
    assert second.fence > first.fence
    counts = checkpoint.empty_counts()
    assert checkpoint.save_progress(target, "people", "s1", "b", counts, 9, fence=second.fence)
    assert not checkpoint.save_progress(target, "people", "s1", "a", counts, 5, fence=first.fence)
    kept = target["_migrations"].find_one({"_id": "progress:people"})
    assert (kept["last_id"], kept["seq"], kept["fence"]) == ("b", 9, second.fence)
    with pytest.raises(LeaseLost, match="a run holding a later fence wrote its checkpoint"):
        first.fenced_out()
