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
from pymongo.errors import PyMongoError

from migration.engine.target import checkpoint
from migration.engine.target.lease import Lease, LeaseHeld, LeaseLost
from tests.support.cli_runner import migration_cli
from tests.support.migration_helpers import fingerprint


def _lease(target, host, pid, beat_age_seconds, writes_in=None, write_seconds=30):
    """A lease as another run left it; `writes_in`: its last write window closes that many
    seconds from now."""
    now = dt.datetime.now(dt.timezone.utc)
    beat = now - dt.timedelta(seconds=beat_age_seconds)
    doc = {"_id": "lease", "owner": f"{host}:{pid}:test", "host": host, "pid": pid,
           "started_at": beat, "heartbeat_at": beat, "seconds": 60}
    if writes_in is not None:
        doc.update(write_seconds=write_seconds,
                   writes_until=now + dt.timedelta(seconds=writes_in))
    target["_migrations"].insert_one(doc)


def _dead_pid() -> int:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    return gone.pid


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
        pid = _dead_pid()
        _lease(target, socket.gethostname(), pid, 1)
        expected = f"its process {pid} on this host no longer exists"
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


@pytest.mark.parametrize("writes_in, write_seconds, waited", [
    (1.5, 30, (1.0, 1.6)),    # its last window closes in 1.5 s: waited for
    (600, 0.5, (0.4, 0.6)),   # a window past its own bound (a damaged record): the bound
])
def test_a_dead_runs_lease_is_taken_once_its_last_write_window_has_closed(
        toy_dbs, writes_in, write_seconds, waited):
    """A command a killed run sent just before dying may still be running on the server."""
    _, _, target, _, _ = toy_dbs
    _lease(target, socket.gethostname(), _dead_pid(), 1, writes_in, write_seconds)
    lease = Lease(target).acquire()
    lease.release()
    seconds = float(lease.took_over.split("(waited ")[1].split(" s")[0])
    assert "no longer exists" in lease.took_over and waited[0] <= seconds <= waited[1]


def test_an_expired_heartbeat_with_a_write_window_still_open_is_not_taken(toy_dbs):
    _, _, target, _, _ = toy_dbs
    _lease(target, "elsewhere.example", 4242, 600, writes_in=600)
    with pytest.raises(LeaseHeld, match="another run holds the target"):
        Lease(target).acquire()


def test_a_write_whose_window_has_passed_is_never_sent(toy_dbs):
    """The window's deadline is fixed before its claim is sent: a stall after the claim (here a
    sleep) leaves the command refused by pymongo before it leaves; a lost lease is named."""
    _, _, target, _, _ = toy_dbs
    lease = Lease(target, seconds=2).acquire()          # windows of 1 s
    try:
        with pytest.raises(PyMongoError) as late:        # still held: the deadline, unsent
            with lease.window():
                time.sleep(1.1)
                target.probe.insert_one({"_id": 1})
        assert late.value.timeout, late.value
        with pytest.raises(LeaseLost, match="took the lease over while this one stalled"):
            with lease.window():
                target["_migrations"].update_one({"_id": "lease"}, {"$set": {"owner": "thief"}})
                time.sleep(1.1)
                target.probe.insert_one({"_id": 2})
    finally:
        lease.release()
    assert target.probe.count_documents({}) == 0
