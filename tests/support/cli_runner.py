"""Running `python -m migration` as other tools do: a subprocess, exit code, output."""
from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]


def migration_env(chain: str | None = None) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    if chain:
        env["MIGRATION_CHAIN"] = chain
    else:
        env.pop("MIGRATION_CHAIN", None)
    return env


def migration_cli(*args, chain: str | None = "tests.support.toy_chain", timeout: float = 300):
    return subprocess.run([sys.executable, "-m", "migration", *map(str, args)],
                          cwd=REPO_ROOT, env=migration_env(chain), capture_output=True,
                          text=True, timeout=timeout)


def assert_sentence(result, code, *words):
    """The CLI ended with `code` and said `words` on stderr, without a traceback."""
    assert result.returncode == code, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr, result.stderr


def operator_path() -> str:
    """A PATH as a root operator's bare shell has it: the system's directories and the Docker
    client, no virtualenv and no `python` that imports pymongo (checked), so what ops runs
    itself must find the project's interpreter and tools on its own."""
    docker = shutil.which("docker")
    dirs = [str(pathlib.Path(docker).parent)] if docker else []
    path = os.pathsep.join(dict.fromkeys([*dirs, "/usr/sbin", "/usr/bin", "/sbin", "/bin"]))
    python = shutil.which("python", path=path)
    if python:
        probe = subprocess.run([python, "-c", "import bson"], capture_output=True, timeout=30)
        assert probe.returncode != 0, f"{python} on the bare PATH imports pymongo: the check would be moot"
    return path
