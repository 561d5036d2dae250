"""SIGKILL `python -m migration run` at random moments, run again: same target as no kill.

Bounded: a fixed number of kills, each after a random delay within one uninterrupted run's
duration, then one final run that must finish. The seed is printed so a failure replays.
"""
import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from tests.support import toy_chain
from tests.support.cli_runner import REPO_ROOT, migration_cli, migration_env
from tests.support.migration_helpers import data_hashes, fingerprint

KILLS = 6
MAX_ATTEMPTS = 3 * KILLS
BATCH = "4"
# The run after a kill waits for the end of the killed run's last write window (half its
# lease, lease.py): a short lease keeps that wait under a second per kill.
KILLED_LEASE = ("--lease-seconds", "2")


@pytest.mark.slow
def test_killed_runs_converge_to_the_uninterrupted_result(ferretdb, fresh_db, tmp_path):
    client = ferretdb.client()
    source_name = fresh_db("src")
    toy_chain.make_source(client[source_name], people=80)
    source_fingerprint = fingerprint(client[source_name])
    reference, target = fresh_db("ref"), fresh_db("tgt")

    started = time.monotonic()
    clean = migration_cli("run", "--source", ferretdb.uri(source_name), "--target",
                          ferretdb.uri(reference), "--batch-size", BATCH)
    duration = time.monotonic() - started
    assert clean.returncode == 0, clean.stdout + clean.stderr

    seed = int(os.environ.get("FAULT_SEED", random.randrange(1 << 30)))
    print(f"fault injection seed {seed} (FAULT_SEED={seed} replays it)")
    rnd = random.Random(seed)
    killed = attempts = 0
    # A run that finishes before its kill is fine (later ones then interrupt a delta pass);
    # keep going until KILLS runs were really killed mid-way, within a bounded number of tries.
    while killed < KILLS and attempts < MAX_ATTEMPTS:
        attempts += 1
        process = subprocess.Popen(
            [sys.executable, "-m", "migration", "run", "--source", ferretdb.uri(source_name),
             "--target", ferretdb.uri(target), "--batch-size", BATCH,
             "--chain", "tests.support.toy_chain", *KILLED_LEASE],
            cwd=REPO_ROOT, env=migration_env(), stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        time.sleep(rnd.uniform(0.05, duration))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            killed += 1
        process.wait(timeout=60)
    final = migration_cli("run", "--source", ferretdb.uri(source_name), "--target",
                          ferretdb.uri(target), "--batch-size", BATCH)
    assert final.returncode == 0, final.stdout + final.stderr
    assert killed >= KILLS // 2, f"only {killed} of {attempts} runs were killed mid-way"
    assert data_hashes(client[target]) == data_hashes(client[reference])
    # and the bookkeeping survived: one more run finds nothing to write
    again = migration_cli("run", "--source", ferretdb.uri(source_name), "--target",
                          ferretdb.uri(target), "--batch-size", BATCH, "--json",
                          tmp_path / "again.json")
    assert again.returncode == 0
    report = json.loads((tmp_path / "again.json").read_text())
    assert all(e["inserted"] == e["replaced"] == e["deleted"] == 0
               for e in report["collections"].values())
    assert fingerprint(client[source_name]) == source_fingerprint
    client.close()
