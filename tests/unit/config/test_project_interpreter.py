"""The steps ops runs on this machine name their interpreter `python`; with_project_tools must
make that name the project's interpreter whatever the caller's PATH holds."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from config.locations import REPO_ROOT, interpreter_dir, with_project_tools

BARE_PATH = "/usr/bin:/bin"
SYSTEM_PYTHON = "/usr/bin/python3"


def _run_python(env: dict[str, str], code: str) -> subprocess.CompletedProcess:
    return subprocess.run(["python", "-c", code], env=env, capture_output=True, text=True,
                          timeout=60, cwd=REPO_ROOT)


def test_a_bare_path_gets_the_running_interpreter_with_its_packages():
    env = with_project_tools({"PATH": BARE_PATH})
    done = _run_python(env, "import sys, bson, steps.protocol; print(sys.prefix)")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == sys.prefix
    assert env["PATH"].endswith(BARE_PATH)
    assert env["PYTHONPATH"].split(os.pathsep)[0] == str(REPO_ROOT)


def test_the_callers_path_and_pythonpath_are_kept_after_the_project_s():
    env = with_project_tools({"PATH": "/opt/x:/usr/bin", "PYTHONPATH": f"/opt/lib{os.pathsep}{REPO_ROOT}"})
    parts = env["PATH"].split(os.pathsep)
    assert parts[0] == str(interpreter_dir()) and parts[-2:] == ["/opt/x", "/usr/bin"]
    assert env["PYTHONPATH"].split(os.pathsep) == [str(REPO_ROOT), "/opt/lib"]


def test_an_interpreter_without_python_beside_it_gets_a_link_in_the_tool_cache(tmp_path):
    """The system's python3 has no `python` beside it: the name must still reach it."""
    assert not Path("/usr/bin/python").exists(), "this machine has /usr/bin/python: the case is moot"
    code = "from config.locations import interpreter_dir; print(interpreter_dir())"
    done = subprocess.run([SYSTEM_PYTHON, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True,
                          env={"PATH": BARE_PATH, "MEESHY_TOOLS_DIR": str(tmp_path)}, timeout=60)
    assert done.returncode == 0, done.stderr
    found = Path(done.stdout.strip())
    assert found.is_relative_to(tmp_path / "interpreters")
    assert os.path.samefile(found / "python", SYSTEM_PYTHON)
