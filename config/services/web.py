"""The web front end (Next.js), served at the apex and `www.`."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from config import wiring
from config.services import gateway
from config.services.spec import Probe, ServiceSpec, VolumeUse

if TYPE_CHECKING:
    from config.settings import Settings

PORT = 3100


def env(settings: Settings) -> dict[str, Any]:
    names, urls = settings.names, wiring.public_urls(settings)
    gateway_host = names.hosts_of("gateway")[0]
    return {
        "NODE_ENV": "production",
        "PORT": str(PORT),
        "NEXT_PUBLIC_API_URL": urls["gateway"],
        "NEXT_PUBLIC_BACKEND_URL": urls["gateway"],
        "NEXT_PUBLIC_WS_URL": f"wss://{gateway_host}",
        "NEXT_PUBLIC_TRANSLATION_URL": f"{urls['translator']}/translate",
        "NEXT_PUBLIC_FRONTEND_URL": urls["web"],
        "NEXT_PUBLIC_STATIC_URL": urls["static"],
        "INTERNAL_BACKEND_URL": f"http://{names.container('gateway')}:{gateway.PORT}",
    }


SPEC = ServiceSpec(
    name="web", rank=40, image="web", port=PORT,
    health=Probe("/api/health", tool="wget"),
    maintained=True,
    volumes=(VolumeUse("frontend-uploads", "/app/public/u"),),
    env=env,
    platform_env=frozenset({
        "NODE_ENV", "PORT", "NEXT_PUBLIC_API_URL", "NEXT_PUBLIC_BACKEND_URL",
        "NEXT_PUBLIC_WS_URL", "NEXT_PUBLIC_TRANSLATION_URL", "NEXT_PUBLIC_FRONTEND_URL",
        "NEXT_PUBLIC_STATIC_URL", "INTERNAL_BACKEND_URL"}),
    default_env={"NEXT_PUBLIC_DEBUG_LOGS": "false"},
    configurable=True,
    compose="frontend", compose_required=True,
    app=True, after=("checked", "gateway"), compress=True, gated=True,
)
