"""A temporary copy of this project's stack files for the ops tests, and `python -m ops` run
against the real Pulumi CLI with a file backend of its own (nothing shared is touched)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from config.locations import tools_dir
from config.settings import SECRET_KEYS

REPO = Path(__file__).resolve().parents[2]
# Encrypted values as `pulumi config set --secret` leaves them in a stack file.
SECRETS = {f"meeshy:{key}": {"secure": "v1:bm90LWEtcmVhbC1jaXBoZXJ0ZXh0"} for key in SECRET_KEYS}


def make_project(root: Path) -> Path:
    """A copy of this project's stack files, each with its secrets set."""
    project = root / "project"
    project.mkdir()
    shutil.copy(REPO / "Pulumi.yaml", project)
    for stack in ("production", "staging"):
        data = yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text())
        data["config"].update(SECRETS)
        (project / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(data))
    return project


def edit(project: Path, stack: str, **values) -> None:
    """Sets `meeshy:<key>` values (None removes the key) as an operator would by hand."""
    path = project / f"Pulumi.{stack}.yaml"
    data = yaml.safe_load(path.read_text()) if path.exists() else {"config": dict(SECRETS)}
    for key, value in values.items():
        if value is None:
            data["config"].pop(f"meeshy:{key}", None)
        else:
            data["config"][f"meeshy:{key}"] = value
    path.write_text(yaml.safe_dump(data))


def files(root: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}


def real_ops(tmp_path: Path, project: Path, *args: str) -> subprocess.CompletedProcess:
    pulumi = shutil.which("pulumi") or tools_dir() / "bin" / "pulumi"
    if not Path(pulumi).is_file():
        pytest.fail(f"the Pulumi CLI is not built in {tools_dir() / 'bin'}; run tools/bootstrap.sh",
                    pytrace=False)
    state = tmp_path / "state"
    env = {**os.environ, "MEESHY_STATE_DIR": str(state), "PULUMI_BACKEND_URL": f"file://{state}",
           "PULUMI_CONFIG_PASSPHRASE": "preflight-test", "PULUMI_HOME": str(tmp_path / "home"),
           "PATH": os.pathsep.join([str(Path(pulumi).parent), os.environ.get("PATH", "")])}
    return subprocess.run([sys.executable, "-m", "ops", *args, "--project-dir", str(project)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=180)


def assert_nothing_created(tmp_path: Path, before: dict) -> None:
    state = tmp_path / "state"
    assert not state.exists() or not any(state.rglob("*")), sorted(state.rglob("*"))
    assert files(tmp_path / "project") == before
