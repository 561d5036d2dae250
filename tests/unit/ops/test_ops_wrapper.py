"""./meeshy: `deploy` says exactly what is missing and how to get it; other verbs go to ops."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def run(args, tmp_path, **env):
    tools = tmp_path / "tools"
    base = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "MEESHY_TOOLS_DIR": str(tools),
            "MEESHY_VENV": "", "MEESHY_SKIP_BOOTSTRAP": "1", "PULUMI_HOME": str(tmp_path / "ph")}
    # The project's virtualenv stays the real one: only the tools are hidden.
    real_venv = Path(os.environ.get("MEESHY_TOOLS_DIR") or Path.home() / ".cache/meeshy-infra") / "venv"
    (tools).mkdir()
    (tools / "venv").symlink_to(real_venv)
    return subprocess.run([str(REPO / "meeshy"), *args], env={**base, **env}, capture_output=True,
                          text=True, timeout=60)


def test_deploy_lists_every_missing_piece_and_deploys_nothing(tmp_path):
    done = run(["deploy", "staging"], tmp_path, DOCKER_HOST="unix:///nonexistent.sock")
    assert done.returncode == 1
    err = done.stderr
    assert "missing: the Pulumi CLI. Build it with: tools/bootstrap.sh deploy" in err
    assert "missing: the Pulumi plugin resource-docker-v5.1.0" in err
    assert "missing: the Pulumi plugin resource-command-v1.2.1" in err
    assert "missing: the Python language host pulumi-language-python" in err
    assert "missing: PULUMI_CONFIG_PASSPHRASE" in err
    assert "missing: the stack file" not in err
    assert ("missing: a running Docker engine" in err) or ("missing: the Docker CLI" in err)
    assert "nothing deployed" in err


def test_other_verbs_are_ops(tmp_path):
    done = run(["history"], tmp_path)
    assert done.returncode == 2 and "the following arguments are required: stack" in done.stderr


def test_a_mistyped_stack_is_named_before_anything_is_built(tmp_path):
    done = run(["deploy", "stagign"], tmp_path, DOCKER_HOST="unix:///nonexistent.sock")
    assert done.returncode == 2
    assert done.stderr == f"ops deploy: no stack file Pulumi.stagign.yaml in {REPO}; did you mean staging?\n"
    assert not (REPO / "Pulumi.stagign.yaml").exists()
