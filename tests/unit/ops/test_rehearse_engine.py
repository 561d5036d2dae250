"""The rehearsal's engine plumbing without an engine: the tunnel's ssh command line, its bounded
wait on a loopback port nothing answers on, the flags' problems in the flags' words, and the
settings that put a stack on a server."""
from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from config.docker_access import DockerSsh, ssh_options
from config.locations import REPO_ROOT
from ops.rehearse.engine import LOCAL, Engine
from ops.rehearse.placement import engine_problems
from ops.rehearse.tunnels import Tunnel, TunnelError, tunnel_argv


def test_the_tunnel_uses_the_engines_strict_options_and_loopback_on_both_ends():
    options = ssh_options("/keys/id", "/keys/known_hosts")
    argv = tunnel_argv("ssh://ops@server.example:2222", options, {40001: 27017, 40002: 8443})
    assert argv[0] == "ssh" and argv[1:1 + len(options)] == options
    assert "StrictHostKeyChecking=yes" in argv and "StrictHostKeyChecking=no" not in argv
    assert ["-o", "ExitOnForwardFailure=yes"] == argv[argv.index("ExitOnForwardFailure=yes") - 1:
                                                     argv.index("ExitOnForwardFailure=yes") + 1]
    assert "-N" in argv
    forwards = [argv[i + 1] for i, word in enumerate(argv) if word == "-L"]
    assert forwards == ["127.0.0.1:40001:127.0.0.1:27017", "127.0.0.1:40002:127.0.0.1:8443"]
    assert argv[-3:] == ["-p", "2222", "ops@server.example"]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_tunnel_to_a_host_that_refuses_ends_at_once_named(tmp_path):
    (tmp_path / "id").write_text("")
    (tmp_path / "known_hosts").write_text("")
    host = f"ssh://ops@127.0.0.1:{_closed_port()}"
    tunnel = Tunnel(host, ssh_options(str(tmp_path / "id"), str(tmp_path / "known_hosts")),
                    {"database": 27017})
    clock = time.monotonic()
    with pytest.raises(TunnelError, match=f"ssh tunnel to {host} ended .*Connection refused"):
        tunnel.open(wait_seconds=20)
    assert time.monotonic() - clock < 20
    tunnel.close()
    assert not tunnel.running


def _args(**values) -> argparse.Namespace:
    return argparse.Namespace(**{"docker_host": None, "ssh_key": None, "known_hosts": None, **values})


def test_the_engine_flags_are_checked_in_their_own_words(tmp_path):
    assert engine_problems(_args()) == []                       # the local engine
    assert "expected ssh://" in engine_problems(_args(docker_host="tcp://10.0.0.1:2375"))[0]
    missing = engine_problems(_args(docker_host="ssh://ops@server.example"))
    assert len(missing) == 1 and missing[0].startswith("--ssh-key and --known-hosts: required")
    absent = engine_problems(_args(docker_host="ssh://ops@server.example",
                                   ssh_key=tmp_path / "nokey", known_hosts=tmp_path / "nohosts"))
    assert absent == [f"--ssh-key: no file {tmp_path / 'nokey'} on this machine",
                      f"--known-hosts: no file {tmp_path / 'nohosts'} on this machine"]
    relative = engine_problems(_args(docker_host="ssh://ops@server.example",
                                     ssh_key=Path("id"), known_hosts=Path("hosts")))
    assert relative and all(p.startswith(("--ssh-key", "--known-hosts")) for p in relative)
    assert engine_problems(_args(ssh_key=tmp_path / "id")) == [
        "--ssh-key and --known-hosts: set only with an ssh:// --docker-host (the local socket "
        "needs no key)"]


def test_rehearse_refuses_an_unreachable_server_before_anything(tmp_path):
    (tmp_path / "id").write_text("")
    (tmp_path / "known_hosts").write_text("")
    host = f"ssh://ops@127.0.0.1:{_closed_port()}"
    done = subprocess.run([sys.executable, "-m", "ops", "rehearse", "--report", str(tmp_path / "r"),
                           "--docker-host", host, "--ssh-key", str(tmp_path / "id"),
                           "--known-hosts", str(tmp_path / "known_hosts")],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert f"{host} is unreachable over SSH" in done.stderr and "nothing was changed" in done.stderr
    assert not (tmp_path / "r" / "state").exists()             # nothing started


def test_a_stack_on_a_server_carries_its_host_and_ssh_files():
    engine = Engine("ssh://ops@server.example", DockerSsh("/keys/id", "/keys/known_hosts"))
    assert engine.remote and engine.name == "ssh://ops@server.example"
    assert engine.stack_settings() == {"meeshy:dockerHost": "ssh://ops@server.example",
                                       "meeshy:dockerSsh": {"identityFile": "/keys/id",
                                                            "knownHosts": "/keys/known_hosts"}}
    assert "/keys/known_hosts" in engine.environment()["MEESHY_DOCKER_SSH_OPTIONS"]
    assert LOCAL.stack_settings() == {} and LOCAL.environment() == {} and not LOCAL.remote
