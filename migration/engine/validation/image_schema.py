"""`--schema-from-image IMAGE`: the schema file the application image carries, copied out with
the Docker CLI (`docker create`, `docker cp`, `docker rm`), so a migration is checked against
the schema of the release about to start rather than a copy that may lag behind it."""
from __future__ import annotations

import pathlib
import shutil
import subprocess
import tempfile

from migration.engine.errors import ConfigError
from migration.engine.validation.schema import load_schema

# Where Meeshy's images keep the Prisma schema they were built with (packages/shared/prisma).
DEFAULT_PATH_IN_IMAGE = "/app/shared/prisma/schema.prisma"
TIMEOUT = 120  # seconds for one docker command: pulling is not done here, creating is quick


def _docker(*args, docker: str = "docker") -> str:
    try:
        done = subprocess.run([docker, *args], capture_output=True, text=True, timeout=TIMEOUT, check=False)
    except FileNotFoundError:
        raise ConfigError("--schema-from-image needs the Docker CLI, and `docker` is not on PATH") from None
    except subprocess.TimeoutExpired:
        raise ConfigError(f"`docker {args[0]}` did not answer within {TIMEOUT} s: is the Docker engine "
                          f"running?") from None
    if done.returncode != 0:
        first = (done.stderr.strip().splitlines() or ["(no message)"])[0][:300]
        raise ConfigError(f"`docker {' '.join(args)}` failed: {first}")
    return done.stdout.strip()


def schema_from_image(image: str, path_in_image: str = DEFAULT_PATH_IN_IMAGE, docker: str = "docker"):
    """The Schema read from `path_in_image` inside `image` (a ConfigError saying what failed).

    The container is only created, never started, and is removed whatever happens.
    """
    if not image or image.startswith("-"):
        raise ConfigError(f"--schema-from-image {image!r} is not an image name")
    container = _docker("create", image, docker=docker).splitlines()[-1]
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="migration-schema-"))
    try:
        local = workdir / "schema.prisma"
        try:
            _docker("cp", f"{container}:{path_in_image}", str(local), docker=docker)
        except ConfigError as exc:
            raise ConfigError(f"the image {image} holds no schema at {path_in_image} "
                              f"(--image-schema-path names another): {exc}") from None
        schema = load_schema(local)
        schema.path = f"{image}:{path_in_image}"
        return schema
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        try:
            _docker("rm", container, docker=docker)
        except ConfigError:
            pass  # a leftover stopped container is harmless; the schema was read or refused
