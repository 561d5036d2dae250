"""`--schema-from-image IMAGE`: the schema file the application image carries, copied out with
the Docker CLI (`docker create`, `docker cp`, `docker rm`), so a migration is checked against
the schema of the release about to start rather than a copy that may lag behind it.

The command lines are built by pure functions (compared list for list in the unit tests) with
the same `docker [--host H]` prefix as commands/docker.py, so a remote engine
(`meeshy:dockerHost`) is reached the same way as by every other docker command of the project.
The prefix is spelled here rather than imported: the migration engine imports nothing outside
migration/, so the tools image carries it alone.
"""
from __future__ import annotations

import pathlib
import shutil
import subprocess
import tempfile

from migration.engine.errors import ConfigError
from migration.engine.validation.schema import load_schema

# Where Meeshy's gateway image keeps the Prisma schema it was built with: its final stage
# copies packages/shared into /app/packages/shared (docs/images.md cites the Dockerfile).
DEFAULT_PATH_IN_IMAGE = "/app/packages/shared/prisma/schema.prisma"
TIMEOUT = 120  # seconds for one docker command: pulling is not done here, creating is quick


def _cli(docker_host: str | None, executable: str) -> list[str]:
    return [executable, "--host", docker_host] if docker_host else [executable]


def create_argv(image: str, *, docker_host: str | None = None, executable: str = "docker") -> list[str]:
    """A stopped container of `image` (never started): what `docker cp` reads from."""
    return [*_cli(docker_host, executable), "create", image]


def copy_argv(container: str, path_in_image: str, destination: str, *,
              docker_host: str | None = None, executable: str = "docker") -> list[str]:
    return [*_cli(docker_host, executable), "cp", f"{container}:{path_in_image}", destination]


def remove_argv(container: str, *, docker_host: str | None = None,
                executable: str = "docker") -> list[str]:
    return [*_cli(docker_host, executable), "rm", container]


def _docker(argv: list[str]) -> str:
    verb = argv[argv.index("--host") + 2] if "--host" in argv else argv[1]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    except FileNotFoundError:
        raise ConfigError("--schema-from-image needs the Docker CLI, and `docker` is not on PATH") from None
    except subprocess.TimeoutExpired:
        raise ConfigError(f"`docker {verb}` did not answer within {TIMEOUT} s: is the Docker engine "
                          f"running?") from None
    if done.returncode != 0:
        first = (done.stderr.strip().splitlines() or ["(no message)"])[0][:300]
        raise ConfigError(f"`docker {' '.join(argv[argv.index(verb):])}` failed: {first}")
    return done.stdout.strip()


def copy_schema(image: str, destination: pathlib.Path, path_in_image: str = DEFAULT_PATH_IN_IMAGE,
                *, docker_host: str | None = None, executable: str = "docker") -> pathlib.Path:
    """Copies the schema file out of `image` into `destination` (a ConfigError saying what
    failed). The container is only created, never started, and is removed whatever happens."""
    if not image or image.startswith("-"):
        raise ConfigError(f"--schema-from-image {image!r} is not an image name")
    where = {"docker_host": docker_host, "executable": executable}
    created = _docker(create_argv(image, **where)).splitlines()
    if not created:
        raise ConfigError(f"`docker create {image}` printed no container id")
    container = created[-1]
    try:
        try:
            _docker(copy_argv(container, path_in_image, str(destination), **where))
        except ConfigError as exc:
            raise ConfigError(f"the image {image} holds no schema at {path_in_image} "
                              f"(--image-schema-path names another): {exc}") from None
        return destination
    finally:
        try:
            _docker(remove_argv(container, **where))
        except ConfigError:
            pass  # a leftover stopped container is harmless; the schema was read or refused


def schema_from_image(image: str, path_in_image: str = DEFAULT_PATH_IN_IMAGE, docker: str = "docker",
                      docker_host: str | None = None):
    """The Schema read from `path_in_image` inside `image`, labelled `image:path`."""
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="migration-schema-"))
    try:
        local = copy_schema(image, workdir / "schema.prisma", path_in_image,
                            docker_host=docker_host, executable=docker)
        schema = load_schema(local)
        schema.path = f"{image}:{path_in_image}"
        return schema
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
