"""The images' HEALTHCHECK: asks this container's own health endpoint, exit 0 only on 200.
`python3 -m meeshy_standin.probe` needs no curl in the image."""
import os
import sys

from .config import ROLES, ConfigError, port_from_env
from .server import http_status

HEALTH_PATHS = {"translator": "/ready", "gateway": "/health", "web": "/api/health",
                "agent": "/health"}


def main() -> int:
    role = os.environ.get("MEESHY_STANDIN_ROLE", "")
    if role not in ROLES:
        print(f"MEESHY_STANDIN_ROLE must be one of {sorted(ROLES)}, got {role!r}", file=sys.stderr)
        return 2
    try:
        port = port_from_env(role, os.environ)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    status = http_status(f"http://127.0.0.1:{port}{HEALTH_PATHS[role]}", timeout=5)
    print(f"{role} health: {status}")
    return 0 if status == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
