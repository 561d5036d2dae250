"""What a killed ops command leaves, found and cleared with real processes, files and locks:
the processes carrying a dead run's marker (one that ignores SIGTERM included), the stack's
ops lock (released by the kernel when its holder is SIGKILLed), Pulumi's lock file of a dead
pulumi, the journal's reading of an interrupted switch, and an archive that fails its checksum."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from ops import journal as journals
from ops import processes
from ops.automation import pulumi_state
from ops.data_ops import DataOperationError, verify_archive
from ops.stack_lock import StackBusy, StackLock, holder
from steps.backup_manifest import file_sha256, manifest_path

DEAD_RUN = "999999999-1"     # no such pid: a run that is gone


def _spawn(code: str, run: str) -> subprocess.Popen:
    """A child that has run its set-up (a SIGTERM handler included) before the test goes on: on
    a loaded host a fixed pause ended before the handler was in place, and SIGTERM killed it."""
    env = {**os.environ, processes.MARKER: run}
    code = code.replace("time.sleep(60)", "print('ready', flush=True); time.sleep(60)")
    child = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "ready"
    return child


def test_the_processes_of_a_dead_run_are_found_by_marker_and_ended_even_ignoring_sigterm():
    stubborn = _spawn("import signal,time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)",
                      DEAD_RUN)
    plain = _spawn("import time; time.sleep(60)", DEAD_RUN)
    other = _spawn("import time; time.sleep(60)", "999999998-1")
    try:
        assert {pid for pid, _ in processes.left_by(DEAD_RUN)} == {stubborn.pid, plain.pid}
        ended = processes.end(DEAD_RUN, grace=1.0)
        assert {pid for pid, _ in ended} == {stubborn.pid, plain.pid}
        assert stubborn.wait(5) == -signal.SIGKILL and plain.wait(5) == -signal.SIGTERM
        assert processes.left_by(DEAD_RUN) == [] and other.poll() is None
    finally:
        for child in (stubborn, plain, other):
            child.kill()
            child.wait()


def test_a_live_run_is_never_ended_and_a_reused_pid_is_not_the_run_recorded():
    me = processes.identity()
    assert processes.alive(me)
    with pytest.raises(RuntimeError, match="still alive"):
        processes.end(me)
    pid = me.split("-")[0]
    assert not processes.alive(f"{pid}-1")      # same pid, another start: not this process


HOLD = ("import sys,time; sys.path.insert(0, {root!r}); from ops.stack_lock import StackLock; "
        "held = StackLock({dir!r}, 'production').acquire('switch'); print('held', flush=True); "
        "time.sleep(60)")


def test_a_second_command_is_refused_at_once_and_a_killed_holder_leaves_no_lock(tmp_path):
    from config.locations import REPO_ROOT
    child = subprocess.Popen([sys.executable, "-c", HOLD.format(root=str(REPO_ROOT), dir=str(tmp_path))],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "held"
        with pytest.raises(StackBusy, match=f"`switch` by pid {child.pid}"):
            StackLock(tmp_path, "production").acquire("rollback")
        assert holder(tmp_path)["pid"] == child.pid
        child.send_signal(signal.SIGKILL)
        child.wait(5)
        assert holder(tmp_path) is None
        lock = StackLock(tmp_path, "production").acquire("rollback")
        assert lock.previous["pid"] == child.pid      # what the killed one left, for its leftovers
        lock.release()
    finally:
        child.kill()
        child.wait()


def _lock_file(state, pid) -> object:
    folder = state / ".pulumi" / "locks" / "organization" / "meeshy" / "production"
    folder.mkdir(parents=True)
    path = folder / "b0c1.json"
    import socket
    path.write_text(json.dumps({"pid": pid, "username": "ops", "hostname": socket.gethostname(),
                                "timestamp": "2026-12-05T06:00:00Z"}))
    return path


def test_a_stale_pulumi_lock_is_removed_and_said_a_live_one_refused(tmp_path):
    said = []
    stale = _lock_file(tmp_path / "a", 999999999)
    assert pulumi_state.clear_stale_locks(tmp_path / "a", "meeshy", "production", said.append)
    assert not stale.exists() and "stale Pulumi lock" in said[0]
    live = _lock_file(tmp_path / "b", os.getpid())
    with pytest.raises(pulumi_state.PulumiLockHeld, match=f"pid {os.getpid()}"):
        pulumi_state.clear_stale_locks(tmp_path / "b", "meeshy", "production", said.append)
    assert live.exists()
    assert pulumi_state.locks(tmp_path / "b", "meeshy", "staging") == []


def test_the_journal_tells_an_interrupted_switch_its_phases_and_the_next_one(tmp_path):
    journal = journals.Journal(tmp_path)
    journal.begin("switch", "switch-1", plan=["a", "b", "c"], fromVersion=3)
    journal.phase_started("a")
    journal.phase_ended("a", True, 4)
    journal.phase_started("b")
    entry = journal.read()
    assert journals.running(entry) and not journals.interrupted(entry)
    entry["run"] = DEAD_RUN                      # as a SIGKILLed ops leaves it
    assert journals.interrupted(entry)
    assert journals.phases_done(entry) == ["a"] and journals.phase_in_flight(entry) == "b"
    assert journals.next_phase(entry) == "b"
    journal.finish("succeeded")
    assert not journals.interrupted(journal.read())


def test_an_archive_failing_its_checksum_is_named_with_the_other_backups(tmp_path):
    folder = tmp_path / "production" / "meeshy"
    folder.mkdir(parents=True)
    archives = []
    for name in ("b1", "b2"):
        archive = folder / f"{name}.archive.gz"
        archive.write_bytes(os.urandom(256))
        manifest_path(archive).write_text(json.dumps({"backupId": name, "sha256": file_sha256(archive)}))
        archives.append(archive)
    assert verify_archive(str(archives[0]))["backupId"] == "b1"
    with pytest.raises(DataOperationError, match="recorded"):
        verify_archive(str(archives[0]), expected_sha256="0" * 64)
    data = bytearray(archives[0].read_bytes())
    data[100] ^= 0xFF
    archives[0].write_bytes(bytes(data))
    with pytest.raises(DataOperationError) as failure:
        verify_archive(str(archives[0]))
    assert "fails its checksum" in str(failure.value) and str(archives[1]) in str(failure.value)
    assert "nothing was changed" in str(failure.value)


def test_a_switch_refuses_a_stack_file_changed_since_the_last_preview(tmp_path):
    from config.stack_file import ConfigDoc
    seen = ConfigDoc({"encryptionsalt": "v1:x"}, {"meeshy:release": "r2"})
    assert journals.changed_since_preview(tmp_path, seen) is None      # never previewed
    journals.record_preview(tmp_path, seen)
    assert journals.changed_since_preview(tmp_path, seen) is None
    edited = seen.with_values({"meeshy:release": "r3"})
    assert journals.changed_since_preview(tmp_path, edited).startswith("previewed at ")


def test_only_the_containers_not_running_are_refreshed_before_an_update():
    from ops.automation.pulumi_state import CONTAINER_TYPE, refresh_stopped_containers

    def container(name, docker_name=None, **extra):
        return {"type": CONTAINER_TYPE, "urn": f"urn:pulumi:p::meeshy::{CONTAINER_TYPE}::{name}",
                "outputs": {"name": docker_name or name}, **extra}

    deployment = {"resources": [
        container("meeshy-production-gateway", "meeshy-production-gateway-0a1b2c3d"),
        container("meeshy-production-web"),
        container("meeshy-production-static"), container("meeshy-production-init",
                                                          inputs={"mustRun": False}),
        container("meeshy-production-old", delete=True),
        {"type": "docker:index/volume:Volume", "urn": "urn:v", "outputs": {"name": "v"}}]}

    class Stack:
        refreshed = None

        def export_stack(self):
            return type("Deployment", (), {"deployment": deployment})()

        def refresh(self, **kwargs):
            self.refreshed = kwargs["target"]

    asked, said = [], []
    running = {"meeshy-production-web": True, "meeshy-production-gateway-0a1b2c3d": False}  # static: gone
    stack = Stack()
    targets = refresh_stopped_containers(
        stack, said.append, lambda names: asked.append(names) or running)
    assert asked == [["meeshy-production-gateway-0a1b2c3d", "meeshy-production-static",
                      "meeshy-production-web"]]
    assert [t.rsplit("::", 1)[-1] for t in targets] == ["meeshy-production-gateway",
                                                        "meeshy-production-static"]
    assert stack.refreshed == targets and "not running" in said[0]
    # Named as Docker names them, what `docker logs` takes.
    assert "(meeshy-production-gateway-0a1b2c3d, meeshy-production-static)" in said[0]
    stack.refreshed = None
    assert refresh_stopped_containers(stack, said.append, lambda names: dict.fromkeys(names, True)) == []
    assert stack.refreshed is None
