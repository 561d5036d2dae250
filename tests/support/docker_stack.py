"""A stack of the real project (the repository root) on the local Docker engine, driven by the
`pulumi` CLI as an operator drives it, with a state backend of its own.

- its name is generated (`e2e<hex>`), so it never meets an operator's stack or another run's;
- its stack file `Pulumi.<name>.yaml` is written beside the committed ones (that is where the
  CLI reads it) and removed by `remove()`, with every container, network and volume carrying
  its label;
- its images are the local ones (`tools/build-images.sh --list`): nothing is pulled.
"""
from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

from config.locations import tools_dir
from ops.rehearse import local_docker
from ops.rehearse.local_docker import free_port, labelled, local_images  # noqa: F401 - the tests import them from here
from ops.rehearse.stacks import edit_stack_file, local_stack_settings

REPO_ROOT = Path(__file__).resolve().parents[2]
PASSPHRASE = "e2e-passphrase-not-a-secret"
CLI_TIMEOUT_SECONDS = 600
EXAMPLE_SECRETS = {
    "meeshy:jwtSecret": "e2e-jwt-secret-0123456789abcdef0123456789",
    "meeshy:adminPassword": "e2e-admin-password",
    "meeshy:meeshyPassword": "e2e-meeshy-password",
    "meeshy:atabethPassword": "e2e-atabeth-password",
    # `openssl passwd -apr1 -salt abcdefgh` of DASHBOARD_PASSWORD: the e2e signs in with it.
    "meeshy:dashboardAuth": "ops:$apr1$abcdefgh$MHUP/ppfkpERDlA9YTwlI1",
}
DASHBOARD_PASSWORD = "e2e-dashboard-password"


def docker(*args: str, check: bool = True, timeout: float = 120) -> str:
    try:
        return local_docker.docker(*args, check=check, timeout=timeout)
    except local_docker.EngineError as error:
        raise AssertionError(str(error)) from None


class DockerStack:
    def __init__(self, workdir: Path, name: str | None = None):
        self.name = name or f"e2e{secrets.token_hex(3)}"
        self.workdir = Path(workdir)
        self.state = self.workdir / "state"
        self.backups = self.workdir / "backups"
        self.state.mkdir(parents=True, exist_ok=True)
        self.backups.mkdir(parents=True, exist_ok=True)
        self.images = local_images()
        self.ports = {"http": free_port(), "https": free_port(), "database": free_port()}
        # What every CLI run printed, for the secret scan: (command, stdout + stderr).
        self.transcript: list[tuple[str, str]] = []

    @property
    def stack_file(self) -> Path:
        return REPO_ROOT / f"Pulumi.{self.name}.yaml"

    def env(self) -> dict[str, str]:
        tools = tools_dir()
        env = dict(os.environ)
        env.update({
            "PULUMI_BACKEND_URL": f"file://{self.state}",
            "MEESHY_STATE_DIR": str(self.state),    # what ops reads first
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_HOME": str(tools / "pulumi-home"),
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PATH": os.pathsep.join([str(tools / "bin"), str(Path(sys.executable).parent),
                                     env.get("PATH", "")]),
        })
        return env

    def settings(self, **overrides) -> dict:
        """A rehearsal stack on the local images, with a release section (backup and gate)."""
        return local_stack_settings(self.images, self.ports, self.backups, domain="e2e.localhost",
                                    release="e2e-1", **overrides)

    def write_stack_file(self, values: dict) -> None:
        edit_stack_file(self.stack_file, values)

    def pulumi(self, *args: str, check: bool = True,
               timeout: float = CLI_TIMEOUT_SECONDS) -> subprocess.CompletedProcess:
        done = subprocess.run(["pulumi", *args, "--stack", self.name, "--non-interactive"],
                              cwd=REPO_ROOT, env=self.env(), capture_output=True, text=True,
                              timeout=timeout)
        self.transcript.append((f"pulumi {args[0]}", done.stdout + done.stderr))
        if check and done.returncode != 0:
            raise AssertionError(f"pulumi {' '.join(args)} exited {done.returncode}:\n"
                                 f"{(done.stdout + done.stderr)[-6000:]}")
        return done

    def init(self, values: dict) -> None:
        subprocess.run(["pulumi", "stack", "init", self.name, "--non-interactive"], cwd=REPO_ROOT,
                       env=self.env(), capture_output=True, text=True, timeout=120, check=True)
        self.write_stack_file(values)
        for key, value in EXAMPLE_SECRETS.items():
            self.pulumi("config", "set", "--secret", key, value)

    def outputs(self) -> dict:
        return json.loads(self.pulumi("stack", "output", "--json").stdout)

    def remove(self) -> dict[str, list[str]]:
        """Destroys everything of the stack, protected resources included, and says what was
        still on the engine before the last resort (`docker rm`/`volume rm` by label)."""
        self.pulumi("state", "unprotect", "--all", "--yes", check=False)
        self.pulumi("destroy", "--yes", "--skip-preview", check=False)
        self.pulumi("stack", "rm", "--yes", "--force", check=False)
        left = local_docker.remove_labelled(self.name)
        self.stack_file.unlink(missing_ok=True)
        return left
