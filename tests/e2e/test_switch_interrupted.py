"""A switch SIGKILLed at each phase boundary, under load, recovered by the one command
`status` recommends; on the real Pulumi engine (tests/e2e/stackbed.py: the release components in
external-database mode against a FerretDB on loopback).

The load is the rehearsal's generator (ops/rehearse/load.py) posting to a gateway that writes
where the stack's deployed state says, refusing in maintenance (tests/support/bed_gateway.py).
A kill is SIGKILL to ops alone, as a fault would deliver it, once the journal shows the phase
started. After each kill only `status` runs, and then the command it names.

To stay within the suite's time, one stack carries the cases in sequence:
1. the migration switch killed in backup-and-migrate; the `switch` status names resumes it and
   is itself killed in the next phase, and so on through maintenance-off; the last resume ends
   it (a second switch started meanwhile is refused at once, writing nothing);
2. `rollback --to` the legacy release, refused first while its backup fails its checksum, then
   done: the writes taken on the migrated database counted, kept, read back by id, and that
   database emptied;
3. the switch again (it starts cleanly on the emptied target), killed in its release after
   the stack file changed: `status` names `rollback`, which undoes exactly that switch (back to
   its fromVersion, never one snapshot further).
After each recovery: production on a known release with maintenance off, every acknowledged
write present by id in the live database or in a named archive read back by id, and `status`
idle with no Pulumi lock, no pending operation and no process of a killed run left.
"""
from __future__ import annotations

import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

from legacy_data.dataset import insert_legacy_dataset
from ops import processes
from ops.rehearse.faults import kept_ids, kill_in_phase, read_journal, tally
from ops.rehearse.load import LoadGenerator, posters
from testing.ferretdb import FerretDB
from tests.e2e.stackbed import REPO_ROOT, HealthServer, StackBed
from tests.e2e.test_switch_rollback import MIGRATION_PHASES, _require_tools
from tests.support.bed_gateway import BedGateway, deployed_release

pytestmark = pytest.mark.e2e

SCALE = 0.01
LEGACY, MIGRATED = ("2026.01.0", "meeshy"), ("2026.02.0", "meeshy_v2")


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
        self.gateway = BedGateway(self.ferret.uri(), self.bed.state, folder=self.root,
                                  program=self.bed.project).__enter__()
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
        """The legacy release declares no migration (as production today); the next one does."""
        return self.bed.config(release=release[0], database=release[1],
                               migration=release != LEGACY)

    @property
    def journal_path(self) -> Path:
        return self.bed.state / ".meeshy-ops" / "meeshy" / "production" / "journal.json"

    def journal(self) -> dict:
        return read_journal(self.journal_path)

    def ledger(self) -> list[dict]:
        path = self.bed.state / ".meeshy-ops" / "meeshy" / "production" / "ledger.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def wait_running(self, switch: subprocess.Popen, deadline_seconds: float = 120) -> None:
        """Until the journal is this switch's (it holds the stack's lock by then)."""
        deadline = time.monotonic() + deadline_seconds
        while not self.journal().get("run", "").startswith(f"{switch.pid}-"):
            assert time.monotonic() < deadline and switch.poll() is None, "the switch never started"
            time.sleep(0.1)

    def status(self, name: str) -> dict:
        _, report, output = self.bed.ops("status", "production", report=name)
        print(output)
        return report

    def start_switch(self) -> subprocess.Popen:
        argv = [sys.executable, "-m", "ops", "switch", "production", "--yes",
                "--project-dir", str(self.bed.project)]
        return subprocess.Popen(argv, cwd=REPO_ROOT, env=self.bed.env(), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)

    def kill_in(self, switch: subprocess.Popen, phase: str) -> str:
        """SIGKILL to ops alone once the journal shows `phase` started; returns its run."""
        return kill_in_phase(switch, self.journal_path, phase)

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


def _kept_ids(report: dict | None) -> set[str]:
    """Ids in the archive a rollback kept the abandoned writes in, read back from the file."""
    entry = (report or {}).get("abandonedWrites") or {}
    if entry.get("changed"):
        assert (entry.get("readBack") or {}).get("verified") is True, entry
    return kept_ids(report)


def _assert_recovered(faults: FaultBed, writes, runs: list[str], kept: set[str], name: str) -> dict:
    after = faults.status(f"status-after-{name}")
    assert after["state"] == "idle", after
    assert after["pulumiLocks"] == [] and after["pendingOperations"] == 0, after
    assert after["orphanProcesses"] == [] and all(processes.left_by(run) == [] for run in runs), after
    release = deployed_release(faults.bed.state, "meeshy", "production")
    assert (release["release"], release["databaseName"]) in (LEGACY, MIGRATED), release
    assert release["maintenance"] is False, release
    counted = tally(faults.client[release["databaseName"]], writes, kept)
    print(f"[{name}] {counted}; serving {release['release']} on {release['databaseName']}")
    assert counted["acknowledged"] > 0, "the load was never served"
    assert counted["lost"] == 0, counted
    assert counted["failed"] == 0, [w.reason for w in writes if w.outcome == "failed"][:5]
    return release


def _load(faults: FaultBed, tag: str) -> LoadGenerator:
    return LoadGenerator(faults.gateway.port, "bed.localhost", faults.pairs, tag=tag, threads=1,
                         interval_seconds=0.1, max_seconds=900).start()


def _second_switch_is_refused(faults: FaultBed, first: subprocess.Popen) -> None:
    """While a switch runs, another is refused at once: no rollback tried, no ledger entry."""
    faults.wait_running(first)
    operations = [e for e in faults.ledger() if e["kind"] in ("switch", "rollback")]
    code, _, output = faults.bed.ops("switch", "production", "--yes", expect=2, report="second")
    assert f"is busy: `switch` by pid {first.pid}" in output and "nothing was done" in output, output
    assert "rollback" not in output.split("is busy")[0]
    assert [e for e in faults.ledger() if e["kind"] in ("switch", "rollback")] == operations
    assert first.poll() is None


def test_a_switch_killed_in_every_phase_in_turn_is_resumed_by_the_command_status_names(faults):
    faults.bed.write_stack_file(faults.config(MIGRATED))
    load, runs = _load(faults, "chain"), []
    try:
        switch = faults.start_switch()
        for index, phase in enumerate(MIGRATION_PHASES):
            if index == 1:
                _second_switch_is_refused(faults, switch)
            runs.append(faults.kill_in(switch, phase))
            seen = faults.status(f"status-{phase}")
            assert seen["state"] == "interrupted" and f"in phase {phase}" in seen["sentence"], seen
            assert "now dead" in seen["sentence"], seen
            assert seen["next"] == "./meeshy switch production --yes", seen
            print(f"[{phase}] operator saw: {seen['sentence']}")
            if index + 1 < len(MIGRATION_PHASES):
                switch = faults.start_switch()       # the command status named, killed in turn
        report, _ = faults.run_recommended(seen["next"], "resume-last")
        assert report["result"] == "succeeded" and report["resumed"]["from"] == "maintenance-off"
        time.sleep(1.0)      # a few writes on the recovered release
    finally:
        writes = load.stop()
    release = _assert_recovered(faults, writes, runs, set(), "chain")
    assert (release["release"], release["databaseName"]) == MIGRATED


def _corrupt(path: Path) -> bytes:
    original = path.read_bytes()
    data = bytearray(original)
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    return original


def test_rollback_to_refuses_a_corrupt_backup_then_keeps_and_empties_the_abandoned_target(faults):
    faults.bed.write_stack_file(faults.config(LEGACY))
    leaving = [entry for entry in faults.ledger() if entry["kind"] == "switch"][-1]
    archive = Path(leaving["backups"][LEGACY[1]]["archive"])
    original = _corrupt(archive)
    version = str(faults.legacy_version)
    code, _, output = faults.bed.ops("rollback", "production", "--to", version, "--yes", expect=None,
                                     report="rollback-corrupt")
    assert code != 0 and f"backup archive {archive} fails its checksum" in output, output
    assert "other backups of that database" in output and "nothing was changed" in output, output
    assert deployed_release(faults.bed.state, "meeshy", "production")["databaseName"] == MIGRATED[1]
    archive.write_bytes(original)

    load = _load(faults, "rollback-to")
    try:
        _, back, output = faults.bed.ops("rollback", "production", "--to", version, "--yes",
                                         report="rollback-to-legacy")
        time.sleep(1.0)
    finally:
        writes = load.stop()
    assert back["result"] == "succeeded", output
    kept = _kept_ids(back)
    assert kept, back["abandonedWrites"]
    assert (back["abandonedWrites"].get("dropped") or {}).get("dropped") == MIGRATED[1], back
    assert MIGRATED[1] not in faults.client.list_database_names()
    # Writes acknowledged on the migrated database before the rollback are in its archive.
    _assert_recovered(faults, writes, [], kept, "rollback-to")


def test_after_rollback_to_a_switch_starts_cleanly_and_a_kill_undone_by_rollback(faults):
    """The fault pass's data loss: killed in maintenance-on (now the release, where maintenance
    goes on), then `rollback` stepped one snapshot
    back past the pre-switch state. Now it undoes exactly that switch: back to its fromVersion,
    with every write the legacy release took still served."""
    faults.bed.write_stack_file(faults.config(MIGRATED))
    load = _load(faults, "undo")
    try:
        run = faults.kill_in(faults.start_switch(), "release")
        # The operator edits the stack file meanwhile: the switch can no longer be resumed.
        faults.bed.write_stack_file({**faults.config(MIGRATED), "meeshy:release": "2026.02.1"})
        seen = faults.status("status-undo")
        assert seen["next"] == "./meeshy rollback production --yes", seen
        print(f"[release, file changed] operator saw: {seen['sentence']}")
        back, output = faults.run_recommended(seen["next"], "undo")
        time.sleep(1.0)
    finally:
        writes = load.stop()
    assert back["result"] == "succeeded" and back["undid"]["interruptedIn"] == "release", output
    assert back["toVersion"] == seen["journal"]["fromVersion"]
    release = _assert_recovered(faults, writes, [run], _kept_ids(back), "undo")
    assert (release["release"], release["databaseName"]) == LEGACY
