"""Fixtures of the end-to-end tests: the Docker engine and the real plugins must be there (the
test command's bootstrap installs them), so a missing piece fails the run, naming it."""
from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.cli_runner import operator_path
from tests.support.docker_stack import REPO_ROOT, DockerStack, tools_dir

PLUGINS = ("resource-docker-v5.1.0", "resource-command-v1.2.1")


@pytest.fixture(scope="session")
def docker_engine():
    done = subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"],
                          capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        pytest.fail(f"no Docker engine answers (docker info: {done.stderr.strip()}); "
                    "tools/bootstrap.sh test starts one", pytrace=False)
    plugins = tools_dir() / "pulumi-home" / "plugins"
    missing = [p for p in PLUGINS if not (plugins / p).is_dir()]
    if not (tools_dir() / "bin" / "pulumi-language-python").is_file():
        missing.append("pulumi-language-python")
    if missing:
        pytest.fail(f"missing Pulumi plugins: {', '.join(missing)}; tools/bootstrap.sh installs them",
                    pytrace=False)
    return done.stdout.strip()


@pytest.fixture
def ops_cli():
    """Runs `python -m ops ...` on a DockerStack's backend, as an operator would."""
    def run(stack: DockerStack, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
        env = {**stack.env(), "PATH": operator_path()}     # no virtualenv on it: ops finds its own
        return subprocess.run([sys.executable, "-m", "ops", *args], cwd=REPO_ROOT, env=env,
                              capture_output=True, text=True, timeout=timeout)
    return run


@pytest.fixture(scope="session")
def ssh_host(docker_engine):
    """The SSH test host (tools/test-host.sh): a second engine reachable only over SSH. Started
    for the session and removed after it, unless it was already up (then it is left as found)."""
    from tests.support.ssh_host import parse_env, run_script
    was_up = run_script("env", timeout=60).returncode == 0
    done = run_script("up")
    if done.returncode != 0:
        pytest.fail(f"tools/test-host.sh up failed: {done.stderr.strip()[-1500:]}", pytrace=False)
    try:
        yield parse_env(done.stdout)
    finally:
        if not was_up:
            run_script("down", timeout=300)
