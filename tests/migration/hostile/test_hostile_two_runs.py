"""Two real `python -m migration run` processes against one target (FerretDB). The first, a
delta run, stops itself in the middle of a batch's data writes (tests/support/stall_hook.py)
and stays stopped past its lease; the source changes; the second takes the target over and
finishes. The first, resumed, must write nothing at all (not the rest of its batch, not its
ledger, not its checkpoint) and exit 1 naming the lost lease: the target stays byte for byte
what the second run left."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.support import toy_chain
from tests.support.cli_runner import REPO_ROOT, migration_cli, migration_env
from tests.support.migration_helpers import fingerprint

LEASE_SECONDS = 3.0       # windows of 1.5 s: room for a loaded machine before the stall
PEOPLE = 200        # one batch of 200 at --batch-size 1000: four replacement commands of 50


def _rename(source, name: str) -> None:
    source.people.update_many({}, {"$set": {"name": name}})


def _stopped(proc) -> bool:
    with open(f"/proc/{proc.pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] == "T"


def _wait_until_stopped(proc) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if _stopped(proc):
            return
        time.sleep(0.02)
    err = proc.communicate(timeout=30)[1] if proc.poll() is not None else ""
    raise AssertionError(f"the first run never reached its stall (exit {proc.poll()}): {err}")


@pytest.mark.parametrize("stall", [
    "Person:1",         # between two of a batch's data commands
    "Person:1:claim",   # between a claim answered "yours" and the data command it allowed
])
def test_a_run_stalled_inside_a_batch_writes_nothing_once_taken_over(ferretdb, fresh_db,
                                                                     tmp_path, stall):
    client = ferretdb.client()
    source, target = client[fresh_db("src")], client[fresh_db("tgt")]
    toy_chain.make_source(source, people=PEOPLE)
    args = ["run", "--source", ferretdb.uri(source.name), "--target", ferretdb.uri(target.name),
            "--batch-size", "1000"]
    assert migration_cli(*args).returncode == 0
    _rename(source, "read by the first run")     # every Person of the batch is replaced
    env = {**migration_env("tests.support.toy_chain_stalling"), "MIGRATION_TEST_STALL": stall}
    first = subprocess.Popen([sys.executable, "-m", "migration", *args, "--lease-seconds",
                              str(LEASE_SECONDS)], cwd=REPO_ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_until_stopped(first)
        _rename(source, "read by the second run")   # what the first still holds is now stale
        time.sleep(LEASE_SECONDS * 1.5)
        second = migration_cli(*args, "--json", tmp_path / "second.json")
        assert second.returncode == 0, second.stdout + second.stderr
        report = json.loads((tmp_path / "second.json").read_text())
        assert "took over the lease" in report["lease"] and report["ok"] is True
        left = fingerprint(target)
    finally:
        if first.poll() is None:
            os.kill(first.pid, signal.SIGCONT)
    out, err = first.communicate(timeout=120)
    assert first.returncode == 1, out + err
    assert "lost its lease" in err and "nothing more was written" in err, err
    assert "Traceback" not in err
    # Not one write of the first run after the takeover: data, ledger and records as the second
    # run left them, and every Person holds what the second run read.
    assert fingerprint(target) == left, err
    names = {p["name"] for p in target.Person.find({}, {"name": 1})}
    assert names - {"Ghost"} == {"read by the second run"}, names
    verify = migration_cli("verify", "--source", ferretdb.uri(source.name), "--target",
                           ferretdb.uri(target.name))
    assert verify.returncode == 0, verify.stdout + verify.stderr
    client.close()
