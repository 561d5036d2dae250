"""ops/remote_host.py: one sentence per way an ssh:// engine cannot be used, from ssh's real
messages (OpenSSH 9.2, captured against tools/test-host.sh), and the settings it reads."""
from __future__ import annotations

import pytest

from config.docker_access import DockerSsh
from ops.remote_host import classify, docker_access, remote_problems

SSH = DockerSsh("/keys/deploy", "/keys/known_hosts")
HOST = "ssh://ops@10.0.0.5"
CHANGED = """@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @
@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
Host key for 10.0.0.5 has changed and you have requested strict checking.
Host key verification failed.
"""


@pytest.mark.parametrize("code, stderr, sentence", [
    (255, "ssh: connect to host 10.0.0.5 port 22: Connection refused\n",
     "ssh://ops@10.0.0.5 is unreachable over SSH (ssh: connect to host 10.0.0.5 port 22: "
     "Connection refused); nothing was changed"),
    (255, "ops@10.0.0.5: Permission denied (publickey).\n",
     "ssh://ops@10.0.0.5 refused the key /keys/deploy; nothing was changed"),
    (255, CHANGED, "the host key of ssh://ops@10.0.0.5 has changed since it was pinned in "
     "/keys/known_hosts; nothing was changed (if the server was really reinstalled, replace its "
     "line there after checking the new key with its administrator)"),
    (255, "No ED25519 host key is known for 10.0.0.5 and you have requested strict checking.\n"
          "Host key verification failed.\n",
     "the host key of ssh://ops@10.0.0.5 is not pinned in /keys/known_hosts; nothing was changed "
     "(add the server's key there, checked with its administrator)"),
    (1, "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon "
        "running?\n",
     "no Docker engine answers on ssh://ops@10.0.0.5 (Cannot connect to the Docker daemon at "
     "unix:///var/run/docker.sock. Is the docker daemon running?); nothing was changed"),
    (127, "sh: 1: docker: not found\n", "ssh://ops@10.0.0.5 has no docker command; nothing was changed"),
])
def test_each_failure_is_one_sentence(code, stderr, sentence):
    assert classify(HOST, SSH, code, stderr) == sentence


def test_an_answer_is_no_problem():
    assert classify(HOST, SSH, 0, "") is None


def test_a_local_engine_is_never_probed():
    assert remote_problems({"meeshy:dockerHost": "unix:///var/run/docker.sock"}) == []
    assert remote_problems({}) == []


def test_missing_files_are_named_before_any_connection(tmp_path):
    key = tmp_path / "key"
    key.write_text("not used")
    values = {"meeshy:dockerHost": HOST,
              "meeshy:dockerSsh": {"identityFile": str(key), "knownHosts": str(tmp_path / "kh")}}
    assert remote_problems(values) == [f"meeshy:dockerSsh.knownHosts: no file {tmp_path / 'kh'} "
                                       "on this machine"]
    host, ssh, problems = docker_access({"meeshy:dockerHost": HOST})
    assert (host, ssh) == (HOST, None) and problems[0].startswith("meeshy:dockerSsh: required")
