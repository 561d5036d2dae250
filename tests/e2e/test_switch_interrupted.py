"""A switch SIGKILLed at each phase boundary, under load, recovered by the one command
`status` recommends; on the real Pulumi engine (tests/e2e/stackbed.py: the release components in
external-database mode against a FerretDB on loopback).

The load is the rehearsal's generator (ops/rehearse/load.py) posting to a gateway that writes
where the stack's deployed state says, refusing in maintenance (tests/support/bed_gateway.py).
Each case, on one shared stack: back on the legacy release (`rollback --to` it, which also
empties the migration's target: the next switch must start cleanly), the migration switch
started, killed (SIGKILL to ops alone, as a fault would) once the journal shows the phase
started, then only `status` and the command it names. Then: production on a known release
with maintenance off, every acknowledged write present by id in the live database or in a
named archive read back by id, and `status` idle with no Pulumi lock, no pending operation
and no process of the killed run left.
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

import pytest
from bson import ObjectId

from ops import processes
from ops.rehearse.load import LoadGenerator, posters
from steps.data_check import archive_document_hashes
from testing.ferretdb import FerretDB
from testing.legacy.dataset import insert_legacy_dataset
from tests.e2e.stackbed import REPO_ROOT, HealthServer, StackBed
from tests.e2e.test_switch_rollback import MIGRATION_PHASES, _require_tools
from tests.support.bed_gateway import BedGateway, deployed_release

pytestmark = pytest.mark.e2e

SCALE = 0.01
LEGACY, MIGRATED = ("2026.01.0", "meeshy"), ("2026.02.0", "meeshy_v2")
KILL_AFTER_START_SECONDS = 1.0


class FaultBed:
    def __init__(self, root: Path):
        self.root = root

    def __enter__(self):
        _require_tools()
        self.ferret = FerretDB().__enter__()
        self.client = self.ferret.client()
        insert_legacy_dataset(self.client.meeshy, seed=1, scale=SCALE)
        self.health = HealthServer().__enter__()
        self.bed = StackBed(self.root, self.ferret.uri(), self.health)
        self.bed.init_stack()
        self.gateway = BedGateway(self.ferret.uri(), self.bed.state, folder=self.root).__enter__()
        self.pairs = posters(self.client.meeshy, limit=4)
        self.bed.write_stack_file(self.config(LEGACY))
        _, result, output = self.bed.ops("deploy", "production", report="deploy")
        assert result["ok"], output
        self.legacy_version = result["version"]
        return self

    def __exit__(self, *exc):
        self.gateway.__exit__(*exc)
        self.health.__exit__(*exc)
        self.client.close()
        self.ferret.__exit__(*exc)

    def config(self, release: tuple[str, str]) -> dict:
        return self.bed.config(release=release[0], database=release[1], migration=True)

    def journal(self) -> dict:
        path = self.bed.state / ".meeshy-ops" / "meeshy" / "production" / "journal.json"
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            return {}

    def status(self, name: str) -> dict:
        _, report, output = self.bed.ops("status", "production", report=name)
        print(output)
        return report

    def start_switch(self) -> subprocess.Popen:
        argv = [sys.executable, "-m", "ops", "switch", "production", "--yes",
                "--project-dir", str(self.bed.project)]
        return subprocess.Popen(argv, cwd=REPO_ROOT, env=self.bed.env(), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)

    def kill_in(self, switch: subprocess.Popen, phase: str, deadline_seconds: float = 300) -> str:
        """SIGKILL to ops alone once the journal shows `phase` started; returns its run."""
        deadline = time.monotonic() + deadline_seconds
        while time.monotonic() < deadline:
            journal = self.journal()
            started = [p for p in journal.get("phases") or [] if p["name"] == phase]
            if journal.get("run", "").startswith(f"{switch.pid}-") and started:
                time.sleep(KILL_AFTER_START_SECONDS)
                os.kill(switch.pid, signal.SIGKILL)
                switch.wait(timeout=30)
                return journal["run"]
            assert switch.poll() is None, f"ops switch ended (exit {switch.returncode}) before {phase}"
            time.sleep(0.1)
        raise AssertionError(f"phase {phase} never started within {deadline_seconds} s")

    def run_recommended(self, command: str, name: str) -> tuple[dict | None, str]:
        words = shlex.split(command)
        assert words[0] == "./meeshy", command
        _, report, output = self.bed.ops(*words[1:], report=name)
        print(output)
        return report, output


@pytest.fixture(scope="module")
def faults(tmp_path_factory):
    with FaultBed(tmp_path_factory.mktemp("faults")) as bed:
        yield bed


def _back_on_legacy(faults: FaultBed) -> None:
    """Every case starts from the legacy release, with the migration's target empty."""
    if deployed_release(faults.bed.state, "meeshy", "production").get("databaseName") == LEGACY[1]:
        return
    faults.bed.write_stack_file(faults.config(LEGACY))
    _, back, output = faults.bed.ops("rollback", "production", "--to", str(faults.legacy_version),
                                     "--yes", report="rollback-to-legacy")
    assert back["result"] == "succeeded", output
    dropped = back["abandonedWrites"].get("dropped") or {}
    assert dropped.get("dropped") == MIGRATED[1], back["abandonedWrites"]
    assert MIGRATED[1] not in faults.client.list_database_names()


def _kept_ids(report: dict | None) -> set[str]:
    """Ids in the archive a rollback kept the abandoned writes in, read back from the file."""
    entry = (report or {}).get("abandonedWrites") or {}
    if not entry.get("keptIn"):
        return set()
    assert (entry.get("readBack") or {}).get("verified") is True, entry
    hashes = archive_document_hashes(Path(entry["keptIn"]), entry["database"])
    return {key for key in hashes.get("Message", {})}


def _present(client, database: str, ids: list[str]) -> set[str]:
    wanted = [ObjectId(i) for i in ids]
    return {str(d["_id"]) for d in client[database].Message.find({"_id": {"$in": wanted}}, {"_id": 1})}


@pytest.mark.parametrize("phase", MIGRATION_PHASES)
def test_a_switch_killed_in_a_phase_recovers_with_the_one_command_status_names(faults, phase):
    _back_on_legacy(faults)
    faults.bed.write_stack_file(faults.config(MIGRATED))
    load = LoadGenerator(faults.gateway.port, "bed.localhost", faults.pairs, tag=f"kill-{phase}",
                         threads=1, interval_seconds=0.1, max_seconds=600).start()
    try:
        run = faults.kill_in(faults.start_switch(), phase)
        seen = faults.status(f"status-{phase}")
        assert seen["state"] == "interrupted" and f"in phase {phase}" in seen["sentence"], seen
        assert "now dead" in seen["sentence"] and seen["next"], seen
        print(f"[{phase}] operator saw: {seen['sentence']}")
        recovered, output = faults.run_recommended(seen["next"], f"recover-{phase}")
        time.sleep(1.0)      # a few writes on the recovered release
    finally:
        writes = load.stop()

    after = faults.status(f"status-after-{phase}")
    assert after["state"] == "idle", after
    assert after["pulumiLocks"] == [] and after["pendingOperations"] == 0, after
    assert after["orphanProcesses"] == [] and processes.left_by(run) == [], after
    release = deployed_release(faults.bed.state, "meeshy", "production")
    assert (release["release"], release["databaseName"]) in (LEGACY, MIGRATED), release
    assert release["maintenance"] is False, release

    acknowledged = [w.message_id for w in writes if w.outcome == "acknowledged"]
    assert acknowledged, "the load was never served"
    kept = _kept_ids(recovered if (recovered or {}).get("abandonedWrites") else None)
    lost = set(acknowledged) - _present(faults.client, release["databaseName"], acknowledged) - kept
    failed = [w for w in writes if w.outcome == "failed"]
    print(f"[{phase}] recovered by {seen['next']}: {len(acknowledged)} acknowledged, {len(lost)} lost, "
          f"{len(kept)} in a kept archive, {len(failed)} failed; release {release['release']}")
    assert lost == set(), f"{len(lost)} acknowledged write(s) lost: {sorted(lost)[:5]}"
    assert failed == [], [w.reason for w in failed][:5]
