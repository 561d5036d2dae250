"""The handover's shell side (components/platform/handover.py), run by a real `sh` with a
`docker` that answers as the test says: the create waits for the new container to be healthy,
the delete marks the old one and waits until it is unhealthy (or gone), each bounded."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from components.platform import handover

FAKE_DOCKER = """#!/bin/sh
# `docker inspect -f ... NAME` prints $STATUS_FILE's content (or fails: "gone");
# `docker exec NAME touch MARKER` succeeds unless the container is gone; `exec` and `rm` are recorded.
case "$1" in
  inspect|container) s="$(cat "$STATUS_FILE")"; [ "$s" = gone ] && exit 1; echo "$s" ;;
  exec) [ "$(cat "$STATUS_FILE")" = gone ] && exit 1; echo "$*" >> "$CALLS_FILE"
        [ -n "$THEN" ] && echo "$THEN" > "$STATUS_FILE"; exit 0 ;;
  rm) echo "$*" >> "$CALLS_FILE" ;;
esac
"""


def _run(tmp_path: Path, script: str, status: str, then: str = "") -> subprocess.CompletedProcess:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "docker").write_text(FAKE_DOCKER)
    (bin_dir / "docker").chmod(0o755)
    (bin_dir / "sleep").write_text("#!/bin/sh\nexit 0\n")      # no real waiting in a unit test
    (bin_dir / "sleep").chmod(0o755)
    (tmp_path / "status").write_text(status)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "THEN": then,
           "STATUS_FILE": str(tmp_path / "status"), "CALLS_FILE": str(tmp_path / "calls")}
    return subprocess.run(["sh", "-c", script], env=env, capture_output=True, text=True, timeout=30)


def test_the_create_ends_once_the_new_container_is_healthy(tmp_path):
    assert _run(tmp_path, handover.ready_script("app-1"), "healthy").returncode == 0


def test_the_create_fails_naming_the_container_when_it_never_gets_healthy(tmp_path, monkeypatch):
    monkeypatch.setattr(handover, "WAIT_SECONDS", 0)
    done = _run(tmp_path, handover.ready_script("app-1"), "starting")
    assert done.returncode == 1
    assert "container app-1 is starting after 0s; waited for healthy" in done.stderr


def test_the_delete_marks_the_old_container_and_waits_until_it_is_out(tmp_path):
    done = _run(tmp_path, handover.drain_script("app-0"), "healthy", then="unhealthy")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "calls").read_text().split() == ["exec", "app-0", "touch", handover.DRAIN_MARKER]


def test_a_drain_that_does_not_end_is_said_and_the_container_stopped_anyway(tmp_path, monkeypatch):
    monkeypatch.setattr(handover, "DRAIN_SECONDS", 0)
    done = _run(tmp_path, handover.drain_script("app-0"), "healthy")
    assert done.returncode == 0
    assert "container app-0 is healthy after 0s; waited for unhealthy" in done.stderr
    assert "stopping app-0 before Traefik let it go" in done.stderr


def test_the_delete_of_a_container_already_gone_does_nothing(tmp_path):
    done = _run(tmp_path, handover.drain_script("app-0"), "gone")
    assert done.returncode == 0 and not (tmp_path / "calls").exists()


@pytest.mark.parametrize("marker,expected", [(False, 0), (True, 1)])
def test_the_health_check_fails_once_the_marker_is_there(tmp_path, monkeypatch, marker, expected):
    monkeypatch.setattr(handover, "DRAIN_MARKER", str(tmp_path / "drain"))
    if marker:
        (tmp_path / "drain").touch()
    test = handover.drain_test(["true"])
    assert test[0] == "CMD"
    assert subprocess.run(test[1:], timeout=30).returncode == expected


def test_the_name_is_cleared_of_a_container_left_pending_deletion(tmp_path):
    """The rollback after a failed release re-creates the old container's name while the old
    container, pending deletion, still holds it: drained, then removed."""
    done = _run(tmp_path, handover.clear_script("app-0"),
                "healthy", then="unhealthy")
    assert done.returncode == 0, done.stderr
    calls = (tmp_path / "calls").read_text().splitlines()
    assert calls[0].split() == ["exec", "app-0", "touch", handover.DRAIN_MARKER]
    assert calls[1].split() == ["rm", "-f", "app-0"]


def test_a_free_name_needs_no_clearing(tmp_path):
    done = _run(tmp_path, handover.clear_script("app-0"), "gone")
    assert done.returncode == 0 and not (tmp_path / "calls").exists()


QUIET = 'test -e "$QUIET_FILE"'


def _run_quiet(tmp_path, script, status, quiet: bool, then=""):
    (tmp_path / "quiet").unlink(missing_ok=True)
    if quiet:
        (tmp_path / "quiet").touch()
    os.environ["QUIET_FILE"] = str(tmp_path / "quiet")
    try:
        return _run(tmp_path, script, status, then=then)
    finally:
        del os.environ["QUIET_FILE"]


def _sleeps(tmp_path: Path, script: str) -> str:
    """The script with `sleep` recording its calls."""
    (tmp_path / "bin").mkdir(exist_ok=True)
    return script.replace("sleep ", f'echo sleep >> {tmp_path / "sleeps"}; sleep ')


@pytest.mark.parametrize("quiet", [False, True])
def test_under_maintenance_the_drain_marks_the_old_container_and_skips_the_waits(
        tmp_path, monkeypatch, quiet):
    monkeypatch.setattr(handover, "DRAIN_SECONDS", 0)     # the container never gets unhealthy
    script = _sleeps(tmp_path, handover.drain_script("app-0", quiet=QUIET))
    done = _run_quiet(tmp_path, script, "healthy", quiet, then="healthy")   # never unhealthy
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "calls").read_text().split() == ["exec", "app-0", "touch", handover.DRAIN_MARKER]
    waited = "waited for unhealthy" in done.stderr
    assert waited is not quiet
    assert (tmp_path / "sleeps").exists() is not quiet


@pytest.mark.parametrize("quiet", [False, True])
def test_under_maintenance_the_create_does_not_wait_for_traefik(tmp_path, quiet):
    script = _sleeps(tmp_path, handover.ready_script("app-1", quiet=QUIET))
    done = _run_quiet(tmp_path, script, "healthy", quiet)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "sleeps").exists() is not quiet


def test_the_maintenance_test_holds_exactly_while_the_pages_route_is_in_traefiks_file(
        tmp_path, monkeypatch):
    """Run against the files maintenance_route writes: the routed one and the base one."""
    from components.platform import maintenance_route
    from config.settings import load_settings
    from testing.mock_pulumi import EXAMPLE_SECRETS, stack_file_config

    settings = load_settings("production", {**stack_file_config("production"), **EXAMPLE_SECRETS})
    names = settings.names
    dynamic = tmp_path / "dynamic.yaml"
    monkeypatch.setattr(handover, "DYNAMIC_CONFIG_PATH", str(dynamic))
    test = handover.maintenance_test(names)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # `docker exec CONTAINER CMD...` runs CMD here; a container other than Traefik's is absent.
    (bin_dir / "docker").write_text(
        f'#!/bin/sh\n[ "$2" = "{names.container("traefik")}" ] || exit 1\nshift 2; exec "$@"\n')
    (bin_dir / "docker").chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}

    def holds() -> bool:
        return subprocess.run(["sh", "-c", test], env=env, timeout=30).returncode == 0

    routed = maintenance_route.routed_config(settings, 8080, None)
    dynamic.write_text(routed)
    assert holds()
    dynamic.write_text(maintenance_route.DYNAMIC_CONFIG)
    assert not holds()
    dynamic.unlink()
    assert not holds()
