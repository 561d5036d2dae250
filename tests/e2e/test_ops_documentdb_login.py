"""ops' own data operations log in to a real DocumentDB (the local image, a SCRAM login) the way
a DocumentDB stack's `./meeshy` verbs do: server_for reads the stack's password (a stand-in for
the stack's workspace), then a digest, a backup (mongodump given its URL by `sh` from
MEESHY_DATA_URI) and a verified restore run in tools containers on the stack's network, the
database's port never published to them. A wrong password is refused by the server. No Pulumi:
the database container is this test's, attached to a network named as the stack's."""
from __future__ import annotations

import secrets
import subprocess

import pytest

from config import naming
from config.release_settings import load_release_settings
from ops import data_ops
from ops.automation import stack_secrets
from testing.documentdb import DocumentDB
from tests.support.docker_stack import REPO_ROOT

pytestmark = pytest.mark.docker


def _tools_image() -> str:
    listed = subprocess.run([str(REPO_ROOT / "tools" / "build-images.sh"), "--list"],
                            capture_output=True, text=True, timeout=60, check=True).stdout.split()
    tag = dict(zip(listed[::2], listed[1::2]))["tools"]
    if subprocess.run(["docker", "image", "inspect", tag], capture_output=True).returncode:
        pytest.fail(f"the tools image {tag} is not built (tools/build-images.sh)", pytrace=False)
    return tag


@pytest.fixture
def documentdb_stack(tmp_path, monkeypatch):
    """(stack name, its DocumentDB, its values): the container answers as the stack's database."""
    stack = f"login{secrets.token_hex(3)}"
    names = naming.StackNames(stack, "invalid.example")
    values = {"meeshy:rehearsal": True, "meeshy:release": "r1",
              "meeshy:backupDir": str(tmp_path / "backups"),
              "meeshy:database": {"name": "meeshy", "server": "documentdb",
                                  "replicaSet": {"enabled": False}},
              "meeshy:tools": {"image": _tools_image()}}
    monkeypatch.setattr(stack_secrets, "_readers", {})
    subprocess.run(["docker", "network", "create", names.network], check=True,
                   capture_output=True, timeout=60)
    try:
        with DocumentDB() as database:
            subprocess.run(["docker", "network", "connect", "--alias", names.database_host,
                            names.network, database.name], check=True, capture_output=True,
                           timeout=60)
            yield stack, database, values
    finally:
        subprocess.run(["docker", "network", "rm", names.network], capture_output=True, timeout=60)


def test_ops_logs_in_to_a_documentdb_stack_through_the_environment(documentdb_stack):
    stack, database, values = documentdb_stack
    database.client()["meeshy"]["User"].insert_many(
        [{"_id": f"u{i}", "name": f"user {i}"} for i in range(5)])
    stack_secrets.register(stack, lambda key: database.password)
    settings = load_release_settings(stack, values)
    server = data_ops.server_for(settings, values)
    assert data_ops.digests(server, "meeshy", timeout=120)["User"]["count"] == 5
    backup = data_ops.take_backup(server, settings, "meeshy", "login-check", timeout=120)
    restored = data_ops.restore_and_verify(server, backup["archive"], "meeshy", "meeshy_copy", 120)
    assert restored["verified"] and restored["documents"] == 5
    assert database.client()["meeshy_copy"]["User"].count_documents({}) == 5

    stack_secrets.register(stack, lambda key: "not-the-password")
    with pytest.raises(data_ops.DataOperationError) as refused:
        data_ops.digests(data_ops.server_for(settings, values), "meeshy", timeout=120)
    assert "not-the-password" not in str(refused.value)
