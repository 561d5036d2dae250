"""Production on a server reached over SSH: the real program and ops against the SSH test host
(tools/test-host.sh), a Docker engine that is not this machine's, in its own network and mount
namespaces. One stack for the module, tests in file order:

- each way the server cannot be used stops `ops deploy` before any change, in one sentence;
- a deploy puts every container, network and volume on the remote engine and none on this
  machine's (checked at every step), and its backup on the server's disk;
- `fetch-backup` copies that backup here and verifies it;
- teardown leaves the remote engine empty of the stack but its protected volumes.
Then `python -m ops rehearse --docker-host ssh://...` at the smallest scale, as an operator runs
it: both stacks on the server's engine, their ports reached through ssh tunnels (the database is
published on the server's loopback only), a failing switch with its automatic rollback and
`rollback --to` under load, the abandoned writes read back where their archive is (the server),
an interrupted switch recovered, and nothing of either stack on this machine's engine at any
check nor after. The tests of both share one file so that they run in one worker of the suite
(tools/test.sh): the SSH host's session fixture removes the host when its worker ends.
"""
from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from config import naming
from config import stack_edits as edit
from config.docker_access import ssh_options
from ops.rehearse.engine import LOCAL
from ops.rehearse.local_docker import local_images
from ops.rehearse.placement import Placement
from ops.rehearse.stacks import release_images
from ops.rehearse.tunnels import Tunnel
from steps.backup_manifest import file_sha256
from tests.support.cli_runner import operator_path
from tests.support.docker_stack import REPO_ROOT
from tests.support.ssh_host import SshStack

pytestmark = [pytest.mark.e2e, pytest.mark.docker]


@pytest.fixture(scope="module")
def stack(ssh_host, tmp_path_factory):
    bed = SshStack(tmp_path_factory.mktemp("ssh-stack"), ssh_host)
    bed.init(bed.settings(release="legacy-1", **_legacy(bed)))
    try:
        yield bed
    finally:
        left = bed.remove()
        assert not left["container"], f"containers left on the test host: {left['container']}"
        assert bed.on_engines()["local"] == {"container": [], "network": [], "volume": []}


def _legacy(bed) -> dict:
    return edit.images(release_images(bed.images, "legacy"))


def ops(stack, *args, timeout=900):
    return subprocess.run([sys.executable, "-m", "ops", *args], cwd=REPO_ROOT, env=stack.env(),
                          capture_output=True, text=True, timeout=timeout)


def assert_nothing_local(stack) -> dict:
    engines = stack.on_engines()
    assert engines["local"] == {"container": [], "network": [], "volume": []}, engines["local"]
    return engines["remote"]


def test_each_unusable_server_is_refused_before_any_change(stack, ssh_host, tmp_path):
    other_key = tmp_path / "other_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other_key)], check=True)
    other_host_key = tmp_path / "host_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other_host_key)],
                   check=True)
    changed = tmp_path / "known_hosts_changed"
    changed.write_text(f"{ssh_host.address} " + " ".join(
        (tmp_path / "host_key.pub").read_text().split()[:2]) + "\n")
    cases = {
        "unreachable": ({"host": ssh_host.docker_host + ":2222"}, "is unreachable over SSH"),
        "key refused": ({"key": str(other_key)}, f"refused the key {other_key}"),
        "host key changed": ({"known_hosts": str(changed)}, "has changed since it was pinned"),
        "no docker": ({"host": ssh_host.no_docker_host}, "no Docker engine answers on"),
    }
    before = stack.stack_file.read_text()
    for name, (changed_settings, words) in cases.items():
        stack.write_stack_file({**stack.settings(release="legacy-1", **_legacy(stack)),
                                **ssh_host.settings(**changed_settings)})
        done = ops(stack, "deploy", stack.name, timeout=120)
        assert done.returncode == 2, (name, done.stdout + done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and words in lines[0] and "nothing was changed" in lines[0], (name, lines)
    stack.stack_file.write_text(before)
    history = json.loads(stack.pulumi("stack", "history", "--json").stdout or "null")
    assert not history                                      # no update ever started
    assert stack.on_engines()["remote"] == {"container": [], "network": [], "volume": []}


def test_deploy_puts_everything_on_the_server_and_its_backup_on_its_disk(stack, ssh_host):
    done = ops(stack, "deploy", stack.name, "--json", str(stack.workdir / "deploy.json"))
    assert done.returncode == 0, done.stderr[-3000:]
    remote = assert_nothing_local(stack)
    assert f"meeshy-{stack.name}-gateway" in {naming.fixed_container_name(c) for c in remote["container"]}
    assert remote["volume"] and remote["network"]
    backup = stack.outputs()["release"]["backup"]
    archive = backup["archive"]
    assert archive.startswith(f"/srv/meeshy-backups/{stack.name}/")
    assert not Path(archive).exists()                       # not on this machine's disk
    listed = ssh_host.docker("run", "--rm", "-v", "/srv:/srv:ro", stack.images["tools"],
                             "sha256sum", archive)
    assert listed.split()[0] == backup["sha256"]            # on the server's, as recorded
    # Traefik's published port answers at the server's address (its redirect to https).
    connection = http.client.HTTPConnection(ssh_host.address, stack.ports["http"], timeout=10)
    connection.request("GET", "/", headers={"Host": f"{stack.name}.e2e.localhost"})
    assert connection.getresponse().status in (301, 302, 307, 308, 404)
    connection.close()


def test_fetch_backup_copies_it_here_verified(stack, tmp_path):
    done = ops(stack, "fetch-backup", stack.name, "--out", str(tmp_path), "--json",
               str(tmp_path / "fetch.json"))
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads((tmp_path / "fetch.json").read_text())
    assert report["verified"] and file_sha256(Path(report["copiedTo"])) == report["sha256"]
    assert_nothing_local(stack)


def test_teardown_leaves_only_the_protected_volumes_on_the_server(stack):
    done = ops(stack, "teardown", stack.name, "--yes")
    assert done.returncode == 0, done.stderr[-3000:]
    remote = assert_nothing_local(stack)
    assert remote["container"] == [] and remote["network"] == []
    assert remote["volume"]                                 # data volumes are protected


# The whole rehearsal on the server.

SCALE = 0.01        # the smallest the rehearsal accepts (legacy_data.dataset.MIN_SCALE)
NOTHING = {"container": [], "network": [], "volume": []}


@pytest.fixture(scope="module")
def rehearsal(ssh_host, tmp_path_factory):
    out = tmp_path_factory.mktemp("rehearsal-ssh")
    done = subprocess.run(
        [sys.executable, "-m", "ops", "rehearse", "--scale", str(SCALE), "--report", str(out),
         "--gateway", "stand-in",
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


def listening_program(port: int) -> str | None:
    """The name of the program listening on loopback `port`, None when nothing listens."""
    out = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True,
                         check=True).stdout
    found = re.search(r'users:\(\("([^"]+)"', out)
    return found.group(1) if found else (out.strip() and "unknown") or None


def test_the_tunnels_were_closed(rehearsal):
    """No ssh listens on a tunnel's port any more. The port itself may be taken again by then:
    the Pulumi plugins of the test files running beside this one listen on random loopback
    ports, and one did in a CI run."""
    _, report = rehearsal
    ends = [int(line.split(" -> ")[0].rsplit(":", 1)[1])
            for tunnel in report["engine"]["tunnels"] for line in tunnel.values()]
    assert len(ends) == 4                           # https and database of both stacks
    assert {port: listening_program(port) for port in ends if listening_program(port) == "ssh"} == {}


def test_a_tunnel_left_open_is_found_by_the_check_of_its_port(ssh_host):
    """The check above, shown to fail: a tunnel to the server, open, is named; closed, not."""
    tunnel = Tunnel(ssh_host.docker_host, ssh_options(ssh_host.key, ssh_host.known_hosts),
                    {"ssh": 22}).open()
    port = tunnel.local["ssh"]
    try:
        assert listening_program(port) == "ssh"
    finally:
        tunnel.close()
    assert listening_program(port) != "ssh"


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
