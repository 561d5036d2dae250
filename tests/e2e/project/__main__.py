"""End-to-end test program: one Release in external-database mode.

It is the release side of the real program (components/release/release.py, the same components the
platform composes) without the containers, so that switch and rollback are exercised against a
FerretDB on loopback in seconds; the whole platform on the Docker engine is
tests/e2e/test_docker_platform.py. Its stack files are written by the tests into a temporary copy.
"""
import shlex
from pathlib import Path

import pulumi

from components.release.local_command import local_command
from components.release.release import Release, external_server
from config.pulumi_source import PulumiConfigSource
from config.release_settings import load_release_settings

settings = load_release_settings(pulumi.get_stack(), PulumiConfigSource())
# The platform's maintenance route, as the bed's gateway sees it (tests/support/bed_gateway.py):
# a file in the project while maintenance is on, there before the release's data steps run
# and gone at the end of the update that ends maintenance, as Traefik's route is.
flag = shlex.quote(str(Path.cwd() / f".maintenance-route-{settings.stack}"))
route = (local_command(f"meeshy-{settings.stack}-maintenance-route", create=f"touch {flag}",
                       delete=f"rm -f {flag}") if settings.maintenance else None)
release = Release(f"meeshy-{settings.stack}", settings, external_server(settings),
                  endpoints=dict(settings.health.endpoints),
                  database_ready=[route] if route else [])
pulumi.export("release", release.summary)
# The stack's secret, read as the platform reads its secrets and kept secret: the tests search
# the state, the reports and ops' output for its value (tests/e2e/stackbed.py, secret_leaks).
pulumi.export("sessionSecret", pulumi.Config("meeshy").require_secret("jwtSecret"))
