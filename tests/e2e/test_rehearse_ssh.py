"""`python -m ops rehearse --docker-host ssh://...` at the smallest scale on the SSH test host
(tools/test-host.sh), exactly as an operator runs it: both stacks on the server's engine, their
ports reached through ssh tunnels (the database is published on the server's loopback only),
the abandoned writes read back where their archive is (the server), and nothing of either stack
on this machine's engine at any check nor after. One rehearsal for the module; the tests read
its report, the server's engine and this machine's.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from ops.rehearse.engine import LOCAL
from ops.rehearse.local_docker import local_images
from ops.rehearse.placement import Placement
from tests.support.cli_runner import operator_path
from tests.support.docker_stack import REPO_ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.docker]

SCALE = 0.01        # the smallest the rehearsal accepts (legacy_data.dataset.MIN_SCALE)
NOTHING = {"container": [], "network": [], "volume": []}


@pytest.fixture(scope="module")
def rehearsal(ssh_host, tmp_path_factory):
    out = tmp_path_factory.mktemp("rehearsal-ssh")
    done = subprocess.run(
        [sys.executable, "-m", "ops", "rehearse", "--scale", str(SCALE), "--report", str(out),
         "--docker-host", ssh_host.docker_host, "--ssh-key", ssh_host.key,
         "--known-hosts", ssh_host.known_hosts],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=1800,
        env={**os.environ, "PATH": operator_path()})
    print(done.stdout)
    print(done.stderr[-4000:])
    report = json.loads((out / "rehearsal-report.json").read_text())
    return done, report


def test_every_step_passed_on_the_server_engine(rehearsal, ssh_host):
    done, report = rehearsal
    assert done.returncode == 0, done.stderr[-3000:]
    assert report["result"] == "succeeded", report.get("failure")
    assert [s["name"] for s in report["steps"] if not s["ok"]] == []
    engine = report["engine"]
    assert engine["dockerHost"] == ssh_host.docker_host and engine["remote"] is True
    assert engine["serverVersion"][:1].isdigit()
    assert engine["backupDir"].startswith("/srv/meeshy-rehearsal/")
    assert f"on {ssh_host.docker_host}" in done.stdout
    # The load went through the tunnels and was checked as on the local engine.
    assert report["writes"]["acknowledged"] > 0 and report["writes"]["lost"] == 0


def test_the_abandoned_writes_were_read_back_on_the_server(rehearsal):
    _, report = rehearsal
    abandoned = report["rollbackTo"]["abandonedWrites"]
    assert abandoned["inserted"] > 0, abandoned      # the writes after the switch's window
    assert abandoned["keptIn"].startswith(report["engine"]["backupDir"])
    assert abandoned["readBack"]["verified"] is True, abandoned
    assert abandoned["readBack"]["inserted"] >= abandoned["inserted"]


def test_nothing_of_the_stacks_on_this_machine_and_nothing_left_on_the_server(rehearsal, ssh_host):
    _, report = rehearsal
    names = list(report["stacks"].values())
    assert report["localEngine"] == {"isolation": {}, "teardown": {}}
    for name in names:
        assert LOCAL.holdings(name) == NOTHING
        assert ssh_host.engine.holdings(name) == NOTHING
        assert not (REPO_ROOT / f"Pulumi.{name}.yaml").exists()
    assert report["teardown"]["backupsRemoved"] == report["engine"]["backupDir"]
    listed = ssh_host.docker("run", "--rm", "-v", "/srv:/srv:ro", local_images()["tools"],
                             "ls", "/srv/meeshy-rehearsal")
    assert f"rehearsal-{report['id']}" not in listed.split()


def test_the_tunnels_were_closed(rehearsal):
    _, report = rehearsal
    ends = [int(line.split(" -> ")[0].rsplit(":", 1)[1])
            for tunnel in report["engine"]["tunnels"] for line in tunnel.values()]
    assert len(ends) == 4                           # https and database of both stacks
    for port in ends:
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_the_local_engine_check_finds_a_planted_leftover(docker_engine, tmp_path):
    """The check the rehearsal makes of this machine's engine, shown to fail: a volume labelled
    with a stack's name is found."""
    name = f"rehearsal-plant{os.getpid()}-production"
    placement = Placement(LOCAL, {}, tmp_path, "plant")
    assert placement.local_leftovers([name]) == {}
    volume = LOCAL.docker("volume", "create", "--label", f"meeshy.stack={name}").strip()
    try:
        assert placement.local_leftovers([name]) == {name: {**NOTHING, "volume": [volume]}}
    finally:
        LOCAL.docker("volume", "rm", volume)
