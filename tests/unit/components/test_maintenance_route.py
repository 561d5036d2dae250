"""The maintenance flip's shell side (components/platform/maintenance_route.py): the probe that
waits until Traefik answers (or stops answering) with the page, run by a real `sh` with a `wget`
that answers as the test says, and the write that carries the file through the environment."""
from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

import pytest

from components.platform import maintenance_route as route

TARGETS = route.RouteTargets("meeshy-x-traefik", "meeshy-x-maintenance", "x.example", "/__health")

FAKE_WGET = """#!/bin/sh
# Answers as $ANSWER_FILE says: "page" (the maintenance page's health), "app" or "down".
case "$(cat "$ANSWER_FILE")" in
  page) printf '  HTTP/1.1 200 OK\\n  X-Meeshy-Maintenance: on\\n' >&2 ;;
  app)  printf '  HTTP/1.1 404 Not Found\\n  Content-Type: text/plain\\n' >&2; exit 8 ;;
  *)    echo "wget: unable to connect" >&2; exit 4 ;;
esac
"""


def _probe(tmp_path: Path, answer: str, want: str, limit: int = 1) -> subprocess.CompletedProcess:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    wget = bin_dir / "wget"
    wget.write_text(FAKE_WGET)
    wget.chmod(0o755)
    (tmp_path / "answer").write_text(answer)
    argv = route.probe_argv(TARGETS, want, timeout=limit)
    script_at = argv.index("-c") + 1           # what `docker exec <page>` runs: sh -c SCRIPT sh ARGS
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}",
           "ANSWER_FILE": str(tmp_path / "answer")}
    return subprocess.run(["sh", "-c", argv[script_at], *argv[script_at + 1:]], env=env,
                          capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize("answer,want", [("page", "on"), ("app", "off"), ("down", "off")])
def test_the_probe_ends_as_soon_as_traefik_answers_as_wanted(tmp_path, answer, want):
    done = _probe(tmp_path, answer, want)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("answer,want", [("app", "on"), ("down", "on"), ("page", "off")])
def test_the_probe_fails_the_flip_naming_the_host_when_traefik_never_answers_so(tmp_path, answer, want):
    done = _probe(tmp_path, answer, want, limit=1)
    assert done.returncode == 1
    assert f"x.example with the maintenance page {'off' if want == 'on' else 'on'} after 1s; " \
           f"expected {want}" in done.stderr


def test_the_probe_wants_on_or_off():
    with pytest.raises(ValueError, match="'on' or 'off'"):
        route.probe_argv(TARGETS, "maybe")


def test_the_file_travels_in_the_environment_and_is_replaced_in_one_rename():
    on, off = route.on_script(TARGETS), route.off_script(TARGETS)
    assert f'printf "%s" "${route.ROUTED_ENV}" | docker exec -i meeshy-x-traefik' in on
    assert f'"${route.BASE_ENV}"' in off and route.ROUTED_ENV not in off
    write = route.write_argv(TARGETS)
    assert write[-1] == "/etc/traefik/dynamic.yaml" and 'mv "$1.new" "$1"' in write[-3]
    # The flip off over a Traefik already gone succeeds: nothing routes to the page then.
    assert off.startswith("if ! docker container inspect meeshy-x-traefik")


def test_a_remote_engine_is_reached_by_every_docker_call():
    remote = route.RouteTargets("t", "p", "h", "/x", docker_host="ssh://ops@prod")
    for script in (route.on_script(remote), route.off_script(remote)):
        calls = [part for part in shlex.split(script.replace(";", " ; ")) if part == "docker"]
        assert script.count("docker --host ssh://ops@prod") == len(calls) > 0
