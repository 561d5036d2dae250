"""Runs images/verify.sh (every local image started and checked, then removed) where a Docker
engine answers and the images are built; says which of the two is missing otherwise."""
from __future__ import annotations

import pathlib
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]


def _missing() -> str | None:
    if shutil.which("docker") is None:
        return "no docker client"
    if subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode != 0:
        return "no Docker engine answers (tools/build-docker-engine.sh starts one)"
    refs = subprocess.run(["bash", str(ROOT / "tools" / "build-images.sh"), "--list"],
                          capture_output=True, text=True, timeout=30, check=True).stdout.split()[1::2]
    absent = [r for r in refs if subprocess.run(["docker", "image", "inspect", r],
                                                capture_output=True, timeout=30).returncode]
    return f"local images not built (tools/build-images.sh): {absent}" if absent else None


@pytest.mark.docker
@pytest.mark.slow
def test_every_local_image_runs_and_answers_as_a_stack_expects():
    missing = _missing()
    if missing:
        pytest.skip(missing)
    run = subprocess.run(["bash", str(ROOT / "images" / "verify.sh")], capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-4000:]
    assert "FAIL" not in run.stderr and "every image checked" in run.stderr
