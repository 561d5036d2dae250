"""Coturn (TURN for calls), behind `meeshy:services.coturn.enabled`, with the certificate dumper
(certs_dumper.py). Its options are parsed into a plain dict the component reads."""
from __future__ import annotations

from typing import Any

from config import validation as v
from config.services.spec import SETTING, Probe, ServiceSpec, VolumeUse

TURN_PORT, TURNS_PORT = 3478, 5349
# A small relay range: every port is one published mapping (and one docker-proxy when userland
# proxying is on), so production's range is a setting rather than thousands by default.
RELAY_PORTS = (49160, 49200)
CERTS_DIR = "/certs"


def parse_options(value: dict, key: str, enabled: bool, problems: v.Problems) -> dict[str, Any]:
    realm = value.get("realm")
    if realm is not None:
        realm = v.domain_name(realm, f"{key}.realm", problems)
    low = _port(value.get("minPort"), RELAY_PORTS[0], f"{key}.minPort", problems)
    high = _port(value.get("maxPort"), RELAY_PORTS[1], f"{key}.maxPort", problems)
    if low and high and low > high:
        problems.add(f"{key}.maxPort", f"must not be below {key}.minPort ({low})")
    health = v.string_list(value.get("healthcheck"), f"{key}.healthcheck", problems)
    if enabled and health is None:
        problems.add(f"{key}.healthcheck", "required when coturn is enabled: the probe depends on "
                     "what the image ships (an argument vector such as "
                     "['turnutils_stunclient', '127.0.0.1'])")
    auth = value.get("authSecret")
    if enabled and auth is None:
        problems.add(f"{key}.authSecret", "required when coturn is enabled: the name of the entry "
                     "of meeshy:serviceSecrets holding the TURN REST secret (the gateway's "
                     "TURN_SECRET)")
    dumper = v.string_list(value.get("certsDumperCommand"), f"{key}.certsDumperCommand", problems)
    return {"realm": realm, "min_port": low, "max_port": high, "healthcheck": health,
            "auth_secret": auth, "certs_dumper_command": dumper}


def _port(raw: Any, default: int, key: str, problems: v.Problems) -> int | None:
    return default if raw is None else v.as_port(raw, key, problems)


SPEC = ServiceSpec(
    name="coturn", rank=120, image="coturn", port=TURN_PORT,
    health=Probe(start_period="30s"),        # meeshy:services.coturn.healthcheck
    subdomain="turn",   # not HTTP: the router only makes Traefik fetch its certificate
    runs=SETTING,
    # Coturn's copy of Traefik's certificates, re-exported at start.
    volumes=(VolumeUse("turn-certs", CERTS_DIR, keep=False, read_only=True, audited=False),),
    configurable=True,
    options=("realm", "authSecret", "minPort", "maxPort", "healthcheck", "certsDumperCommand"),
    parse_options=parse_options,
    compose="coturn",
)
