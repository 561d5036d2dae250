"""The tool bootstrap's own logic (tools/build-common.sh, tools/env.sh), in a throwaway tools dir.

Nothing here builds or downloads: the builds themselves are checked by the scripts (each binary
must report its version before it is stamped) and documented in docs/toolchain.md.
"""
import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


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


def test_a_remembered_refusal_names_the_module_and_exits_3(tmp_path):
    refusal = "github.com/pulumi/pulumi-command/provider@v0.0.0-x refused by the module proxy: 403"
    setup = run_bash(f'printf "%s\\n" "{refusal}" > "$(refusal_path pulumi-resource-command)"', tmp_path)
    assert setup.returncode == 0, setup.stderr
    result = run_bash("check_not_refused pulumi-resource-command; echo went-on", tmp_path)
    assert result.returncode == 3
    assert refusal in result.stderr and "went-on" not in result.stdout


def test_asking_again_clears_the_refusal(tmp_path):
    run_bash('echo refused > "$(refusal_path pulumi-resource-command)"', tmp_path)
    result = run_bash("check_not_refused pulumi-resource-command && echo went-on", tmp_path,
                      MEESHY_RETRY_REFUSED="1")
    assert result.returncode == 0 and "went-on" in result.stdout
    assert not (tmp_path / "bin" / ".pulumi-resource-command.refused").exists()


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
