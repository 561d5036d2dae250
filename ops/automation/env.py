"""Where ops finds the Pulumi CLI, its plugins, the state backend and the passphrase.

Everything is local: a file backend (`file://DIR`), the CLI and plugins built into the tool
cache by tools/bootstrap.sh (tools/lib.sh puts them on PATH and sets PULUMI_HOME), no update
check, no plugin download. A missing piece is reported with what to run to get it.
"""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from config.locations import REPO_ROOT, tools_dir  # noqa: F401 - ops' modules import them from here


class OpsEnvironmentError(RuntimeError):
    """Something ops needs is missing; the message says what and how to get it."""


def state_dir() -> Path:
    """The file backend's directory: MEESHY_STATE_DIR, else a file:// PULUMI_BACKEND_URL, else
    <tools dir>/state (what tools/env.sh sets)."""
    if os.environ.get("MEESHY_STATE_DIR"):
        return Path(os.environ["MEESHY_STATE_DIR"]).resolve()
    backend = os.environ.get("PULUMI_BACKEND_URL", "")
    if backend.startswith("file://") and len(backend) > len("file://"):
        return Path(backend[len("file://"):]).expanduser().resolve()
    if backend:
        raise OpsEnvironmentError(f"PULUMI_BACKEND_URL={backend!r}: ops works with a local file "
                                  "backend (file://DIR) or MEESHY_STATE_DIR")
    return (tools_dir() / "state").resolve()


@dataclass(frozen=True)
class OpsEnvironment:
    pulumi: Path
    state: Path
    pulumi_home: Path

    @property
    def backend_url(self) -> str:
        return f"file://{self.state}"

    def workspace_env(self) -> dict[str, str]:
        env = {
            "PULUMI_BACKEND_URL": self.backend_url,
            "PULUMI_HOME": str(self.pulumi_home),
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        }
        for key in ("PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE"):
            if os.environ.get(key) is not None:
                env[key] = os.environ[key]
        return env

    def ledger_root(self, project: str, stack: str) -> Path:
        """ops' own records of a stack (switch reports, configs applied, baselines), kept in
        the backend directory so they live and move with the state they describe."""
        return self.state / ".meeshy-ops" / project / stack


def discover(*, need_passphrase: bool = True) -> OpsEnvironment:
    found = shutil.which("pulumi") or _in_tools("pulumi")
    if not found:
        raise OpsEnvironmentError(
            "the Pulumi CLI is missing: no `pulumi` on PATH nor in "
            f"{tools_dir() / 'bin'}. Build it once with `tools/bootstrap.sh deploy` "
            "(or run through ./meeshy, which does), then retry.")
    if need_passphrase and not (os.environ.get("PULUMI_CONFIG_PASSPHRASE") is not None
                                or os.environ.get("PULUMI_CONFIG_PASSPHRASE_FILE")):
        raise OpsEnvironmentError(
            "PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) is not set: the local "
            "backend encrypts the stack's secrets with it. Export it before running ops.")
    home = Path(os.environ.get("PULUMI_HOME") or tools_dir() / "pulumi-home")
    state = state_dir()
    state.mkdir(parents=True, exist_ok=True)
    return OpsEnvironment(Path(found), state, home)


def _in_tools(name: str) -> str | None:
    candidate = tools_dir() / "bin" / name
    return str(candidate) if candidate.is_file() and os.access(candidate, os.X_OK) else None
