"""--schema-from-image without a Docker engine: a stand-in `docker` executable on PATH records
the commands and plays the engine's part (create, cp, rm), so what the migration asks of the
Docker CLI, and what it says when that fails, are checked here. Copying out of a real image
needs an engine and is not tested in this suite."""
import os
import pathlib
import stat

import pytest

from migration.engine.errors import ConfigError
from migration.engine.validation.image_schema import DEFAULT_PATH_IN_IMAGE, schema_from_image
from migration.meeshy import SCHEMA_PATH

FAKE_DOCKER = """#!/bin/sh
echo "$*" >> "{log}"
[ "$1" = "--host" ] && shift 2
case "$1" in
  create) [ "$2" = "missing:1" ] && {{ echo "Error: No such image: missing:1" >&2; exit 1; }}
          echo "c0ffee" ;;
  cp) [ "$2" = "c0ffee:{path}" ] || {{ echo "Error: Could not find the file $2" >&2; exit 1; }}
      cp "{schema}" "$3" ;;
  rm) ;;
esac
"""


@pytest.fixture
def docker(tmp_path):
    log = tmp_path / "docker.log"
    script = tmp_path / "docker"
    script.write_text(FAKE_DOCKER.format(log=log, path=DEFAULT_PATH_IN_IMAGE, schema=SCHEMA_PATH))
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script), log


def test_the_schema_is_copied_out_of_a_created_container_which_is_removed(docker):
    executable, log = docker
    schema = schema_from_image("meeshy/gateway:1.2", docker=executable)
    assert len(schema.models) == 85 and schema.path == f"meeshy/gateway:1.2:{DEFAULT_PATH_IN_IMAGE}"
    create, cp, rm = log.read_text().splitlines()
    assert create == "create meeshy/gateway:1.2"
    assert cp.startswith(f"cp c0ffee:{DEFAULT_PATH_IN_IMAGE} ") and rm == "rm c0ffee"
    assert not pathlib.Path(cp.split()[2]).parent.exists()  # the temporary copy is gone


def test_an_image_without_the_file_is_refused_naming_image_and_path_and_the_container_removed(docker):
    executable, log = docker
    with pytest.raises(ConfigError, match=r"the image meeshy/gateway:1.2 holds no schema at /elsewhere"):
        schema_from_image("meeshy/gateway:1.2", "/elsewhere", docker=executable)
    assert log.read_text().splitlines()[-1] == "rm c0ffee"


def test_a_missing_image_says_what_docker_said(docker):
    executable, _ = docker
    expected = r"`docker create missing:1` failed: Error: No such image: missing:1"
    with pytest.raises(ConfigError, match=expected):
        schema_from_image("missing:1", docker=executable)


def test_without_the_docker_cli_one_sentence(tmp_path):
    with pytest.raises(ConfigError, match=r"needs the Docker CLI, and `docker` is not on PATH"):
        schema_from_image("meeshy/gateway:1.2", docker=str(tmp_path / "no-docker-here"))


def test_the_command_line_reads_the_image_schema_and_refuses_two_schemas(docker, tmp_path):
    from tests.support.cli_runner import migration_cli
    executable, log = docker
    env_path = os.path.dirname(executable) + os.pathsep + os.environ.get("PATH", "")
    os.environ["PATH"], saved = env_path, os.environ.get("PATH", "")
    try:
        # No database is reached: both URIs point at a closed port, and the schema comes first.
        both = migration_cli("plan", "--source", "mongodb://127.0.0.1:9/a", "--target",
                             "mongodb://127.0.0.1:9/b", "--schema", SCHEMA_PATH,
                             "--schema-from-image", "meeshy/gateway:1.2", chain=None)
        assert both.returncode == 2 and "give one" in both.stderr and "Traceback" not in both.stderr
        missing = migration_cli("plan", "--source", "mongodb://127.0.0.1:9/a", "--target",
                                "mongodb://127.0.0.1:9/b", "--schema-from-image", "missing:1", chain=None)
        assert missing.returncode == 2 and "No such image: missing:1" in missing.stderr
    finally:
        os.environ["PATH"] = saved


def test_the_docker_commands_are_built_on_the_project_docker_host_builder():
    from migration.engine.validation.image_schema import copy_argv, create_argv, remove_argv
    assert create_argv("meeshy/gateway:1.2") == ["docker", "create", "meeshy/gateway:1.2"]
    host = "ssh://ops@prod.example"
    assert create_argv("meeshy/gateway:1.2", docker_host=host) == [
        "docker", "--host", host, "create", "meeshy/gateway:1.2"]
    assert copy_argv("c0ffee", DEFAULT_PATH_IN_IMAGE, "/tmp/x.prisma", docker_host=host) == [
        "docker", "--host", host, "cp", "c0ffee:/app/packages/shared/prisma/schema.prisma",
        "/tmp/x.prisma"]
    assert remove_argv("c0ffee", docker_host=host) == ["docker", "--host", host, "rm", "c0ffee"]


def test_the_default_path_is_where_the_gateway_image_keeps_the_shared_package():
    # The gateway's final stage copies packages/shared into /app/packages/shared.
    assert DEFAULT_PATH_IN_IMAGE == "/app/packages/shared/prisma/schema.prisma"


def test_the_release_step_copies_the_schema_and_prints_its_digest(docker, tmp_path, monkeypatch, capsys):
    import hashlib
    import json

    from steps.image_schema import main
    executable, log = docker
    monkeypatch.setenv("PATH", os.path.dirname(executable) + os.pathsep + os.environ["PATH"])
    out = tmp_path / "checks" / "gateway.prisma"
    assert main(["--image", "meeshy/gateway:1.2", "--out", str(out),
                 "--docker-host", "ssh://ops@prod"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == {"image": "meeshy/gateway:1.2", "path": DEFAULT_PATH_IN_IMAGE,
                       "file": str(out), "models": 85,
                       "sha256": hashlib.sha256(SCHEMA_PATH.read_bytes()).hexdigest()}
    assert log.read_text().splitlines()[0] == "--host ssh://ops@prod create meeshy/gateway:1.2"
    assert main(["--image", "missing:1", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: schema of missing:1: ") and "No such image" in err
    assert not out.exists()   # the previous image's copy is never left to be validated
