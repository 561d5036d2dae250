"""tools/build-prisma.sh refuses, before unpacking or compiling anything, archives whose
SHA256SUMS line is not the checksum it was written for, and a machine without the sources,
naming what is wrong (a throwaway tools dir: nothing of the shared cache is touched)."""
from __future__ import annotations

import os
import pathlib
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
ENGINE = "prisma-engines-2ba551f3.tar.gz"

pytestmark = pytest.mark.skipif(not (shutil.which("cargo") and shutil.which("npm")),
                                reason="cargo and npm are the script's prerequisites")


def build(tmp_path, **env) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k != "MEESHY_PLUGIN_SOURCES"}
    return subprocess.run(["bash", str(ROOT / "tools/build-prisma.sh")], capture_output=True,
                          text=True, timeout=60,
                          env={**environ, "MEESHY_TOOLS_DIR": str(tmp_path / "tools"), **env})


def test_a_checksum_other_than_the_scripts_stops_it_before_anything_is_unpacked(tmp_path):
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / ENGINE).write_bytes(b"not the archive")
    (sources / "SHA256SUMS").write_text(f"{'0' * 64}  {ENGINE}\n")
    done = build(tmp_path, MEESHY_PLUGIN_SOURCES=str(sources))
    assert done.returncode != 0
    assert f"SHA256SUMS does not give {ENGINE} the checksum this script was written for" in done.stderr
    assert not (tmp_path / "tools/src/prisma-engines").exists()
    assert not (tmp_path / "tools/prisma").exists()


def test_without_the_sources_it_says_what_to_set(tmp_path):
    done = build(tmp_path)
    assert done.returncode != 0
    assert "MEESHY_PLUGIN_SOURCES is not set" in done.stderr and ENGINE in done.stderr
