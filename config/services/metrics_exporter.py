"""A MongoDB metrics exporter (Prometheus format), behind
`meeshy:services.metrics-exporter.enabled`; reached on the stack's network only (no public host)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from config import validation as v
from config import wiring
from config.services.spec import SETTING, Probe, ServiceSpec

if TYPE_CHECKING:
    from config.settings import Settings

PORT = 9216


def env(settings: Settings) -> dict[str, Any]:
    return {"MONGODB_URI": wiring.database_url(settings)}


def parse_options(value: dict, key: str, enabled: bool, problems: v.Problems) -> dict[str, Any]:
    return {"healthcheck": v.string_list(value.get("healthcheck"), f"{key}.healthcheck", problems)}


SPEC = ServiceSpec(
    name="metrics-exporter", rank=140, image="metricsExporter", port=PORT,
    # meeshy:services.metrics-exporter.healthcheck replaces the probe for an image without wget.
    health=Probe("/metrics", tool="wget", start_period="30s"),
    runs=SETTING,
    env=env, platform_env=frozenset({"MONGODB_URI"}),
    configurable=True, options=("healthcheck",), parse_options=parse_options,
    app=True, after=("data",),
)
