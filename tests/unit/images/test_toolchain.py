"""The tool bootstrap's own logic (tools/build-common.sh, tools/env.sh), in a throwaway tools dir.

Nothing here builds or downloads: the builds themselves are checked by the scripts (each binary
must report its version before it is stamped) and documented in docs/toolchain.md.
"""
import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def run_bash(script: str, tools_dir: Path, **env: str) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("MEESHY_", "PULUMI_"))}
    full_env.update(MEESHY_TOOLS_DIR=str(tools_dir), **env)
    prelude = f'. "{REPO}/tools/lib.sh"; . "{REPO}/tools/build-common.sh"; '
    return subprocess.run(["bash", "-c", prelude + script], env=full_env,
                          capture_output=True, text=True, timeout=30)


def make_binary(tools_dir: Path, name: str) -> None:
    binary = tools_dir / "bin" / name
    binary.parent.mkdir(parents=True, exist_ok=True)
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)


def test_a_build_is_skipped_only_for_the_stamped_version(tmp_path):
    make_binary(tmp_path, "ferretdb")
    assert run_bash("is_built ferretdb v1.24.2", tmp_path).returncode == 1  # no stamp yet
    assert run_bash("write_stamp ferretdb v1.24.2 && is_built ferretdb v1.24.2", tmp_path).returncode == 0
    assert run_bash("is_built ferretdb v1.25.0", tmp_path).returncode == 1
    (tmp_path / "bin" / "ferretdb").unlink()
    assert run_bash("is_built ferretdb v1.24.2", tmp_path).returncode == 1


def run_plugin_script(script: str, tools_dir: Path, sources: Path) -> subprocess.CompletedProcess:
    """One plugin script with no download and a stand-in `pulumi` (it is only checked to exist)."""
    make_binary(tools_dir, "pulumi")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MEESHY_", "PULUMI_"))}
    env.update(MEESHY_TOOLS_DIR=str(tools_dir), MEESHY_PLUGIN_DOWNLOAD="0",
               MEESHY_PLUGIN_SOURCES=str(sources))
    return subprocess.run([str(REPO / "tools" / script)], env=env, capture_output=True, text=True,
                          timeout=60)


def installed_anything(tools_dir: Path) -> list[str]:
    plugins = tools_dir / "pulumi-home" / "plugins"
    return [p.name for p in plugins.iterdir()] if plugins.is_dir() else []


def test_a_missing_source_archive_is_named_and_nothing_is_installed(tmp_path):
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "SHA256SUMS").write_text("00  pulumi-command-1.2.1.tar.gz\n")
    done = run_plugin_script("build-pulumi-command.sh", tmp_path / "tools", sources)
    assert done.returncode != 0
    assert f"source archive {sources}/pulumi-command-1.2.1.tar.gz is missing" in done.stderr
    assert installed_anything(tmp_path / "tools") == []


def test_an_archive_that_fails_its_checksum_is_refused_before_anything_is_built(tmp_path):
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "pulumi-docker-5.1.0.tar.gz").write_bytes(b"not the release")
    (sources / "SHA256SUMS").write_text(f"{'0' * 64}  pulumi-docker-5.1.0.tar.gz\n")
    done = run_plugin_script("build-pulumi-docker.sh", tmp_path / "tools", sources)
    assert done.returncode != 0
    assert "checksum mismatch for" in done.stderr and "pulumi-docker-5.1.0.tar.gz" in done.stderr
    assert "nothing was built or installed" in done.stderr
    assert installed_anything(tmp_path / "tools") == []
    assert not (tmp_path / "tools" / "src" / "pulumi-docker-5.1.0").exists()


def test_no_download_and_no_sources_says_what_to_set(tmp_path):
    make_binary(tmp_path / "tools", "pulumi")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MEESHY_", "PULUMI_"))}
    env.update(MEESHY_TOOLS_DIR=str(tmp_path / "tools"), MEESHY_PLUGIN_DOWNLOAD="0")
    done = subprocess.run([str(REPO / "tools" / "build-pulumi-python.sh")], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "MEESHY_PLUGIN_SOURCES is not set" in done.stderr


def test_no_version_check_pipes_into_an_early_exiting_reader():
    """`cmd | grep -q` under pipefail fails at random when grep exits before cmd has written."""
    offenders = [f"{path.name}:{number}" for path in (REPO / "tools").glob("*.sh")
                 for number, line in enumerate(path.read_text().splitlines(), 1)
                 if "| grep -q" in line or "| head" in line]
    assert offenders == []


def test_reports_reads_the_whole_output(tmp_path):
    # 200k lines before the version: a pipe into `grep -q` would have been cut short.
    script = 'reports "version: v9" sh -c "seq 200000; echo version: v9"'
    assert run_bash(script, tmp_path).returncode == 0
    assert run_bash('reports "version: v8" sh -c "echo version: v9"', tmp_path).returncode == 1


def read_env_lines(tools_dir: Path, **env: str) -> dict[str, str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("MEESHY_", "PULUMI_"))}
    full_env.update(MEESHY_TOOLS_DIR=str(tools_dir), **env)
    out = subprocess.run(["bash", str(REPO / "tools" / "env.sh")], env=full_env,
                         capture_output=True, text=True, timeout=30, check=True).stdout
    return dict(line.split("=", 1) for line in out.splitlines())


def test_env_points_pulumi_at_the_local_state_and_the_built_tools(tmp_path):
    env = read_env_lines(tmp_path)
    assert env["PULUMI_BACKEND_URL"] == f"file://{tmp_path}/state"
    assert env["PULUMI_HOME"] == f"{tmp_path}/pulumi-home"
    assert env["PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION"] == "true"
    assert env["PATH"].split(":")[:2] == [f"{tmp_path}/bin", f"{tmp_path}/venv/bin"]
    assert (tmp_path / "state").is_dir()


def test_env_keeps_a_backend_chosen_by_the_caller(tmp_path):
    env = read_env_lines(tmp_path, PULUMI_BACKEND_URL="file:///elsewhere")
    assert env["PULUMI_BACKEND_URL"] == "file:///elsewhere"
