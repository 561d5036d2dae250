"""A rehearsal's own Pulumi backend: a file backend under its report directory and a passphrase
made for the run, so an operator's state and passphrase are never used."""
from __future__ import annotations

import dataclasses
import os
import secrets
from pathlib import Path


def own_backend(state: Path):
    """A file backend under the report directory and a passphrase made for this rehearsal: an
    operator's state (and passphrase) is never used."""
    from ops.automation.env import discover
    state.mkdir(parents=True, exist_ok=True)
    os.environ["MEESHY_STATE_DIR"] = str(state)
    os.environ.pop("PULUMI_BACKEND_URL", None)
    os.environ.pop("PULUMI_CONFIG_PASSPHRASE_FILE", None)
    os.environ["PULUMI_CONFIG_PASSPHRASE"] = secrets.token_urlsafe(24)
    return dataclasses.replace(discover(), state=state.resolve())


def keep_access(state: Path) -> dict:
    """With --keep the stacks stay: their passphrase goes to a file only its owner reads."""
    path = state / "passphrase"
    path.write_text(os.environ["PULUMI_CONFIG_PASSPHRASE"])
    path.chmod(0o600)
    return {"MEESHY_STATE_DIR": str(state), "PULUMI_CONFIG_PASSPHRASE_FILE": str(path)}
