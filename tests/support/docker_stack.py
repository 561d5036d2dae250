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
import socket
import subprocess
import sys
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
PASSPHRASE = "e2e-passphrase-not-a-secret"
STACK_LABEL = "meeshy.stack"
CLI_TIMEOUT_SECONDS = 600
EXAMPLE_SECRETS = {
    "meeshy:jwtSecret": "e2e-jwt-secret-0123456789abcdef0123456789",
    "meeshy:adminPassword": "e2e-admin-password",
    "meeshy:meeshyPassword": "e2e-meeshy-password",
    "meeshy:atabethPassword": "e2e-atabeth-password",
    "meeshy:dashboardAuth": "ops:$apr1$abcdefgh$56.6xICOvPiwEtMethSa81",
}


def tools_dir() -> Path:
    return Path(os.environ.get("MEESHY_TOOLS_DIR") or Path.home() / ".cache" / "meeshy-infra")


def local_images() -> dict[str, str]:
    """`key -> reference` of the images tools/build-images.sh builds (variants as `key@variant`)."""
    done = subprocess.run([str(REPO_ROOT / "tools" / "build-images.sh"), "--list"],
                          capture_output=True, text=True, timeout=60, check=True)
    return dict(line.split(" ", 1) for line in done.stdout.splitlines() if line.strip())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def docker(*args: str, check: bool = True, timeout: float = 120) -> str:
    done = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def labelled(kind: str, stack: str) -> list[str]:
    """Names of the engine's containers, networks or volumes labelled with `stack`."""
    listing = {"container": ("ps", "-a"), "network": ("network", "ls"), "volume": ("volume", "ls")}
    fmt = "{{.Name}}" if kind == "volume" else "{{.Names}}" if kind == "container" else "{{.Name}}"
    out = docker(*listing[kind], "--filter", f"label={STACK_LABEL}={stack}", "--format", fmt)
    return sorted(line for line in out.splitlines() if line)


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
        keys = ("traefik", "mongo", "redis", "translator", "gateway", "web", "static", "maintenance")
        values = {
            "meeshy:domain": "e2e.localhost",
            "meeshy:release": "e2e-1",
            "meeshy:rehearsal": True,
            "meeshy:pullImages": False,
            # Debian's docker.io is Docker 20.10 (API 1.41): no health-check start interval.
            "meeshy:healthStartInterval": False,
            "meeshy:protectData": True,
            "meeshy:ports": dict(self.ports),
            "meeshy:images": {key: self.images[key] for key in keys},
            "meeshy:database": {"name": "meeshy", "replicaSet": {"enabled": False},
                                "healthcheck": ["mongo-ping"]},
            "meeshy:backupDir": str(self.backups),
            "meeshy:tools": {"image": self.images["tools"]},
            "meeshy:healthGate": {"deadlineSeconds": 90, "intervalSeconds": 1},
        }
        values.update(overrides)
        return values

    def write_stack_file(self, values: dict) -> None:
        """What an operator does: edit the stack file, keeping its salt and secrets."""
        current = yaml.safe_load(self.stack_file.read_text()) if self.stack_file.exists() else {}
        kept = {k: v for k, v in (current.get("config") or {}).items()
                if isinstance(v, dict) and set(v) == {"secure"}}
        current["config"] = {**kept, **values}
        self.stack_file.write_text(yaml.safe_dump(current, sort_keys=True))

    def pulumi(self, *args: str, check: bool = True,
               timeout: float = CLI_TIMEOUT_SECONDS) -> subprocess.CompletedProcess:
        done = subprocess.run(["pulumi", *args, "--stack", self.name, "--non-interactive"],
                              cwd=REPO_ROOT, env=self.env(), capture_output=True, text=True,
                              timeout=timeout)
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
        left = {kind: labelled(kind, self.name) for kind in ("container", "network", "volume")}
        for name in left["container"]:
            docker("rm", "-f", name, check=False)
        for kind in ("network", "volume"):
            for name in left[kind]:
                docker(kind, "rm", name, check=False)
        self.stack_file.unlink(missing_ok=True)
        return left
