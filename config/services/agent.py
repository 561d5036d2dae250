"""HEAD's LLM agent, behind `meeshy:services.agent.enabled`; the gateway is its only client."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from config import validation as v
from config import wiring
from config.services.spec import SETTING, Probe, ServiceSpec

if TYPE_CHECKING:
    from config.settings import Settings

PORT = 3200


def env(settings: Settings) -> dict[str, Any]:
    return {"NODE_ENV": "production", "PORT": str(PORT),
            "DATABASE_URL": wiring.database_url(settings), "REDIS_URL": settings.names.redis_url}


def parse_options(value: dict, key: str, enabled: bool, problems: v.Problems) -> dict[str, Any]:
    return {"public": v.as_bool(value.get("public"), f"{key}.public", False, problems),
            "healthcheck": v.string_list(value.get("healthcheck"), f"{key}.healthcheck", problems)}


SPEC = ServiceSpec(
    name="agent", rank=110, image="agent", port=PORT,
    # The image is not in the reference: curl as for the gateway (its Node sibling);
    # meeshy:services.agent.healthcheck overrides it.
    health=Probe("/health", tool="curl"),
    subdomain="agent",       # routed only with meeshy:services.agent.public
    runs=SETTING,
    env=env, platform_env=frozenset({"NODE_ENV", "PORT", "DATABASE_URL", "REDIS_URL"}),
    configurable=True, options=("public", "healthcheck"), parse_options=parse_options,
    compose="agent",
    app=True, after=("data",),
)
