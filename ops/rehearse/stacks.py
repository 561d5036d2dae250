"""The rehearsal's two stacks: a "production" and a staging of the real project (the repository
root) on the rehearsal's Docker engine (ops/rehearse/engine.py: the local one or a server
reached over SSH), deployed by `pulumi up` through ops (StackRunner).

- Names: `rehearsal-<hex4>-production` and `rehearsal-<hex4>-staging`. They never equal
  `production`, so nothing production-only applies (config/naming.py keys it on that exact
  name: apex hosts; the settings' production rules): the rehearsal's production is an ordinary
  stack with production's settings set explicitly (data volumes protected). The random part
  keeps two rehearsals, or a rehearsal and an operator's stacks, apart on one engine.
- State: a file backend of its own under the report directory, so an operator's state is
  never read or written; the passphrase and the secrets are generated per rehearsal and the
  secrets are set with `pulumi config set --secret` (never written in plain text).
- Their stack files are written into the project directory (where the CLI and ops read them)
  and removed at teardown.
"""
from __future__ import annotations

import base64
import hashlib
import os
import secrets
import subprocess
import time
from pathlib import Path

from config import wiring
from config.stack_file import ConfigDoc, stack_file
from config.validation import is_secure
from ops.automation.env import REPO_ROOT, OpsEnvironment
from ops.automation.stack_runner import StackRunner
from ops.rehearse import local_docker
from ops.rehearse.engine import LOCAL, Engine

DOMAIN = "rehearsal.localhost"
DATABASE = "meeshy"
TARGET_DATABASE = "meeshy_v2"
DEPLOY_DEADLINE_SECONDS = 900


# Meeshy's own gateway will not start without these (config/services/gateway.py checks their
# shape): `meeshy:services.gateway.secretEnv` names them, `meeshy:serviceSecrets.<entry>` holds them.
GATEWAY_SECRET_ENV = {"ENCRYPTION_MASTER_KEY": "encryptionMasterKey",
                      "ATTACHMENT_MASTER_KEY": "attachmentMasterKey", "TURN_SECRET": "turnSecret"}


def generated_secrets(server: str = "ferretdb") -> dict[str, str]:
    """Fresh values for every secret a stack needs; the dashboard's htpasswd entry is a {SHA}
    hash of a password nobody keeps (the rehearsal never logs in). On DocumentDB: the database
    login's password, and the keys Meeshy's gateway needs (set for every release: a stand-in
    ignores them)."""
    digest = hashlib.sha1(secrets.token_bytes(24)).digest()
    values = {
        "meeshy:jwtSecret": secrets.token_urlsafe(36),
        "meeshy:adminPassword": secrets.token_urlsafe(18),
        "meeshy:meeshyPassword": secrets.token_urlsafe(18),
        "meeshy:atabethPassword": secrets.token_urlsafe(18),
        "meeshy:dashboardAuth": "ops:{SHA}" + base64.b64encode(digest).decode(),
    }
    if server == "documentdb":
        values.update({
            "meeshy:databasePassword": secrets.token_urlsafe(18),
            "meeshy:serviceSecrets.encryptionMasterKey": base64.b64encode(secrets.token_bytes(32)).decode(),
            "meeshy:serviceSecrets.attachmentMasterKey": base64.b64encode(secrets.token_bytes(32)).decode(),
            "meeshy:serviceSecrets.turnSecret": secrets.token_hex(32)})
    return values


def server_of(images: dict[str, str]) -> str:
    """The database server the stack's `mongo` image is (its tag: `<server>-<version>...`)."""
    return images["mongo"].partition(":")[2].partition("-")[0]


def local_stack_settings(images: dict[str, str], ports: dict[str, int], backups: Path, *,
                         domain: str, release: str, **overrides) -> dict:
    """A stack on the local images (docs/images.md), with a release section (backup and gate)."""
    values = {
        "meeshy:domain": domain,
        "meeshy:release": release,
        "meeshy:rehearsal": True,
        "meeshy:pullImages": False,
        # No CA reaches a rehearsal's hosts, and the rehearsal talks to nothing beyond this host.
        "meeshy:acme": {"enabled": False},
        # Debian's docker.io is Docker 20.10 (API 1.41): no health-check start interval.
        "meeshy:healthStartInterval": False,
        "meeshy:protectData": True,
        "meeshy:ports": dict(ports),
        "meeshy:images": {key: images[key] for key in local_docker.SERVICE_IMAGES},
        "meeshy:database": {"name": DATABASE, "replicaSet": {"enabled": False},
                            "healthcheck": ["mongo-ping"]},
        "meeshy:backupDir": str(backups),
        "meeshy:tools": {"image": images["tools"]},
        "meeshy:healthGate": {"deadlineSeconds": 90, "intervalSeconds": 1},
    }
    if server_of(images) == "documentdb":
        values["meeshy:database"]["server"] = "documentdb"
        values["meeshy:services"] = {"gateway": {"secretEnv": dict(GATEWAY_SECRET_ENV)}}
    values.update(overrides)
    return values


def release_images(images: dict[str, str], variant: str | None, **replaced: str) -> dict[str, str]:
    """The service images with the app services on `variant` (`legacy`), or some replaced."""
    chosen = {key: images[key] for key in local_docker.SERVICE_IMAGES}
    if variant:
        chosen.update({key: images[f"{key}@{variant}"] for key in ("translator", "gateway", "web")})
    chosen.update(replaced)
    return chosen


def application(release: dict[str, str]) -> dict[str, str]:
    """What serves a release, from its images' tags (build-images.sh, build-gateway-image.sh):
    Meeshy's own gateway (`meeshy@<commit>`) or our stand-in, and the database server."""
    gateway = release["gateway"].partition(":")[2]
    server, _, version = release["mongo"].partition(":")[2].partition("-")
    return {"gateway": (f"meeshy@{gateway.split('-')[1]}" if gateway.startswith("meeshy-")
                        else f"stand-in ({release['gateway']})"),
            "database": f"{server} {version.split('-')[0]}"}


def edit_stack_file(path: Path, values: dict) -> None:
    """What an operator does: edit the stack file's settings, keeping its salt and secrets."""
    doc = ConfigDoc.read(path) if path.exists() else ConfigDoc()
    kept = {k: v for k, v in doc.config.items() if k not in values and _holds_secret(v)}
    ConfigDoc(doc.header, {**kept, **values}).write(path)


def _holds_secret(value) -> bool:
    """An encrypted value, or a section holding one (`meeshy:serviceSecrets`, set by path)."""
    if is_secure(value):
        return True
    return isinstance(value, dict) and any(_holds_secret(v) for v in value.values())


class RehearsalStack:
    """`published`: the ports the stack publishes on its engine's host; `ports`: where this
    machine reaches them (the same on the local engine; a tunnel's local ends on a server)."""

    def __init__(self, env: OpsEnvironment, name: str, images: dict[str, str], backups: Path,
                 log=print, engine: Engine = LOCAL, published: dict[str, int] | None = None):
        self.env, self.name, self.images, self.backups, self.log = env, name, images, backups, log
        self.engine = engine
        self.published = published or {"http": local_docker.free_port(),
                                        "https": local_docker.free_port(),
                                        "database": local_docker.free_port()}
        self.ports = dict(self.published)
        self.runner: StackRunner | None = None
        self.server = server_of(images)
        self._secrets: dict[str, str] = {}

    @property
    def stack_file(self) -> Path:
        return stack_file(REPO_ROOT, self.name)

    def settings(self, release: str, **overrides) -> dict:
        return local_stack_settings(self.images, self.published, self.backups, domain=DOMAIN,
                                    release=release, **{**self.engine.stack_settings(), **overrides})

    def write(self, values: dict) -> None:
        edit_stack_file(self.stack_file, values)

    def create(self, values: dict) -> StackRunner:
        self.runner = StackRunner(self.env, REPO_ROOT, self.name, log=self.log, create=True)
        self.write(values)
        self._secrets = generated_secrets(self.server)
        for key, value in self._secrets.items():
            # On stdin, not as an argument: another user's `ps` would show an argument.
            path = ["--path"] if "." in key else []
            done = self.pulumi("config", "set", "--secret", *path, key, stdin=value)
            if done.returncode != 0:
                raise RuntimeError(f"pulumi config set --secret {key} failed for {self.name}: "
                                   f"{done.stderr.strip()[-300:]}")
        return self.runner

    def pulumi(self, *argv: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        env = {**os.environ, **self.env.workspace_env()}
        return subprocess.run([str(self.env.pulumi), *argv, "--stack", self.name, "--non-interactive"],
                              cwd=REPO_ROOT, env=env, input=stdin, capture_output=True, text=True,
                              timeout=600)

    def deploy(self, op_id: str, phase: str = "deploy", check_policies: bool = False):
        """`ops deploy`: one update with the stack file, recorded as a released state."""
        if check_policies:
            self.runner.check_policies(self.runner.desired(), op_id=f"policy-{op_id}")
        result = self.runner.up(self.runner.desired(), op_id=op_id, phase=phase, snapshot=True,
                                deadline=time.monotonic() + DEPLOY_DEADLINE_SECONDS)
        if not result.ok:
            raise RuntimeError(f"deploy of {self.name} failed: {result.error}")
        return result

    def database_uri(self) -> str:
        """The database server as this machine reaches it, with the login DocumentDB needs."""
        uri = f"mongodb://127.0.0.1:{self.ports['database']}/?directConnection=true"
        password = self._secrets.get("meeshy:databasePassword")
        return wiring.with_login(uri, wiring.DOCUMENTDB_USER, password) if password else uri

    def remove(self) -> dict[str, list[str]]:
        """Everything of the stack, protected volumes included, then its state and stack file;
        returns what a destroy left on the engine (removed by label as a last resort)."""
        for argv in (["state", "unprotect", "--all", "--yes"], ["destroy", "--yes", "--skip-preview"],
                     ["stack", "rm", "--yes", "--force"]):
            self.pulumi(*argv)
        left = self.engine.remove_labelled(self.name)
        self.stack_file.unlink(missing_ok=True)
        return left
