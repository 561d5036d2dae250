"""A test bed for the release operations on the real Pulumi engine, without Docker.

- a FerretDB on loopback holds the stack's databases (legacy `meeshy`, migrated `meeshy_v2`);
- a loopback HTTP server the test controls answers the health endpoints: `/health` 200, and
  `/broken` 503 after writing one document into the database the new release would use (a
  release that writes on start-up and then never becomes healthy);
- a temporary copy of tests/e2e/project with its stack file, its own file backend
  (MEESHY_STATE_DIR), the tools' plugins (PULUMI_HOME), and a passphrase;
- `ops(...)` runs `python -m ops ...` as operators do, bounded in time.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from testing import secret_scan
from tests.support.cli_runner import operator_path
from tests.support.json_http import JsonHandler, LoopbackServer

REPO_ROOT = Path(__file__).resolve().parents[2]
PROJECT_TEMPLATE = Path(__file__).resolve().parent / "project"
OPS_TIMEOUT_SECONDS = 900
PASSPHRASE = "e2e-passphrase-not-a-secret"
SECRET_MARKER = "s3cret-e2e-value-that-must-never-appear"


class HealthServer(LoopbackServer):
    """Loopback health endpoints; `junk_writer(n)` is called on each /broken request; with
    `probe`, /health answers 200 only while `probe()` is true (a gateway that checks its data)."""

    def __init__(self, junk_writer=None, probe=None):
        self.requests: list[str] = []
        self.junk_writer = junk_writer
        bed = self

        class Handler(JsonHandler):
            def do_GET(self):
                bed.requests.append(self.path)
                if self.path.startswith("/broken"):
                    if bed.junk_writer:
                        bed.junk_writer(len(bed.requests))
                    self._answer(503, {"status": "degraded", "services": {"database": "down"}})
                elif probe is not None and self.path.startswith("/health") and not probe():
                    self._answer(503, {"status": "degraded", "services": {"data": "missing"}})
                else:
                    self._answer(200, {"status": "ok"})

        self.serve(Handler)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def endpoints(self, broken: bool = False) -> dict[str, str]:
        """The four services of the platform, all served here."""
        gateway = "/broken" if broken else "/health"
        return {"gateway": self.url(gateway), "translator": self.url("/live"),
                "web": self.url("/api/health"), "static": self.url("/health")}


class StackBed:
    def __init__(self, root: Path, database_uri: str, health: HealthServer, stack: str = "production"):
        self.root, self.stack, self.health = Path(root), stack, health
        self.database_uri = database_uri.rstrip("/")
        self.project = self.root / "project"
        shutil.copytree(PROJECT_TEMPLATE, self.project,
                        ignore=shutil.ignore_patterns("Pulumi.*.yaml", "__pycache__"))
        self.state = self.root / "state"
        self.backups = self.root / "backups"
        # The plugins (language host aside) live in the tools' PULUMI_HOME: share it.
        tools = Path(os.environ.get("MEESHY_TOOLS_DIR") or Path.home() / ".cache" / "meeshy-infra")
        self.home = tools / "pulumi-home"
        self.transcript: list[tuple[str, str]] = []   # (ops command, stdout + stderr)

    @property
    def stack_file(self) -> Path:
        return self.project / f"Pulumi.{self.stack}.yaml"

    def config(self, *, release: str, database: str, migration: bool, broken: bool = False,
               source: str = "meeshy", target: str = "meeshy_v2", gate_deadline: float = 6) -> dict:
        values = {
            "meeshy:release": release,
            "meeshy:database": {"name": database},
            "meeshy:maintenance": False,
            "meeshy:backupDir": str(self.backups),
            "meeshy:backup": {"retain": 20, "timeoutSeconds": 120},
            "meeshy:externalDatabase": {"uri": self.database_uri},
            "meeshy:healthGate": {"deadlineSeconds": gate_deadline, "intervalSeconds": 0.5,
                                  "endpoints": self.health.endpoints(broken)},
        }
        if migration:
            values["meeshy:migration"] = {"sourceDatabase": source, "targetDatabase": target,
                                          "timeoutSeconds": 300}
        return values

    def write_stack_file(self, values: dict) -> None:
        """What an operator does: edit the stack file (keeping the salt and secrets)."""
        current = yaml.safe_load(self.stack_file.read_text()) if self.stack_file.exists() else {}
        config = {k: v for k, v in (current.get("config") or {}).items()
                  if isinstance(v, dict) and set(v) == {"secure"}}
        config.update(values)
        current["config"] = config
        self.stack_file.write_text(yaml.safe_dump(current, sort_keys=True))

    def env(self) -> dict[str, str]:
        tools = Path(os.environ.get("MEESHY_TOOLS_DIR") or Path.home() / ".cache" / "meeshy-infra")
        env = dict(os.environ)
        env.update({
            "MEESHY_STATE_DIR": str(self.state),
            "PULUMI_HOME": str(self.home),
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PATH": os.pathsep.join([str(tools / "bin"), str(Path(sys.executable).parent),
                                     env.get("PATH", "")]),
            # The test project's program imports this repository's components.
            "PYTHONPATH": str(REPO_ROOT),
        })
        env.pop("PULUMI_BACKEND_URL", None)
        return env

    def pulumi(self, *args: str, stdin: str | None = None) -> str:
        done = subprocess.run(["pulumi", *args, "--stack", self.stack], cwd=self.project,
                              env={**self.env(), "PULUMI_BACKEND_URL": f"file://{self.state}"},
                              input=stdin, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def init_stack(self, stack: str | None = None) -> None:
        self.stack = stack or self.stack
        self.state.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(["pulumi", "stack", "init", self.stack], cwd=self.project,
                              env={**self.env(), "PULUMI_BACKEND_URL": f"file://{self.state}"},
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        # A secret in the stack's configuration: it must stay ciphertext everywhere.
        self.pulumi("config", "set", "--secret", "meeshy:jwtSecret", SECRET_MARKER)

    def ops(self, *args: str, expect: int | None = 0,
            report: str | None = None) -> tuple[int, dict | None, str]:
        report_path = self.root / f"{report or args[0]}.json"
        argv = [sys.executable, "-m", "ops", *args, "--project-dir", str(self.project),
                "--json", str(report_path)]
        # An operator's bare PATH: ops must run its steps with its own interpreter and tools.
        env = {**self.env(), "PATH": operator_path()}
        done = subprocess.run(argv, cwd=REPO_ROOT, env=env, capture_output=True,
                              text=True, timeout=OPS_TIMEOUT_SECONDS)
        output = done.stdout + done.stderr
        self.transcript.append((f"ops {args[0]}", output))
        if expect is not None:
            assert done.returncode == expect, \
                f"ops {' '.join(args)} exited {done.returncode}:\n{output[-6000:]}"
        data = json.loads(report_path.read_text()) if report_path.is_file() else None
        return done.returncode, data, output

    def secret_leaks(self) -> list[str]:
        """Where the stack's secret is in plain text: any file under the bed (state, ops records,
        reports, backups' manifests) or anything ops printed. The program exports it as a
        secret output, so the state holds it (encrypted): first shown to be read at all."""
        shown = self.pulumi("stack", "output", "sessionSecret", "--show-secrets")
        assert shown.strip() == SECRET_MARKER, "the program never read the stack's secret"
        secrets = {"meeshy:jwtSecret": SECRET_MARKER}
        return secret_scan.in_files(secrets, [self.root]) + [
            f for where, text in self.transcript for f in secret_scan.in_text(secrets, where, text)]
