"""What a stand-in checks before it may report healthy: the variables its real service cannot
run without, and every secret file its environment points at.

The platform hands a service a secret file as a path variable (FIREBASE_ADMIN_CREDENTIALS_PATH
-> /app/secrets/firebase-admin-sdk.json). A forgotten host file becomes an empty directory once
Docker bind-mounts it, and the real gateway then starts and silently stops sending pushes; the
stand-in answers 503 instead, so the health gate fails and the switch rolls back. Problems
name the variable and the path, never a value."""
from __future__ import annotations

import os
from typing import Mapping

SECRETS_DIR = "/app/secrets/"
# Variables without which the real service cannot serve a user (sessions are signed with the
# JWT secret); the wiring ones have their own checks (database ping, translator probe).
REQUIRED_ENV = {"gateway": ("DATABASE_URL", "JWT_SECRET"), "translator": ("DATABASE_URL",),
                "web": (), "agent": ()}


def secret_paths(env: Mapping[str, str], secrets_dir: str = SECRETS_DIR) -> tuple[tuple[str, str], ...]:
    """(variable, path) for every `*_PATH` variable naming a file in the secrets directory."""
    return tuple(sorted((name, value) for name, value in env.items()
                        if name.endswith("_PATH") and value.startswith(secrets_dir)))


def missing_env(role: str, env: Mapping[str, str]) -> tuple[str, ...]:
    return tuple(name for name in REQUIRED_ENV.get(role, ()) if not env.get(name))


def file_problem(path: str) -> str | None:
    """Why `path` is not a readable, non-empty regular file, or None."""
    if not os.path.exists(path):
        return "does not exist"
    if not os.path.isfile(path):
        return "is not a regular file (a bind mount of a missing host file makes a directory)"
    if not os.access(path, os.R_OK):
        return "is not readable by the service's user"
    if os.path.getsize(path) == 0:
        return "is empty"
    return None


def problems(missing: tuple[str, ...], files: tuple[tuple[str, str], ...]) -> list[str]:
    found = [f"{name} is not set" for name in missing]
    for name, path in files:
        why = file_problem(path)
        if why:
            found.append(f"{name}: {path} {why}")
    return found
