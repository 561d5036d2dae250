"""The translator (FastAPI and ZeroMQ), with its model cache on a volume."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from config import wiring
from config.services.spec import Probe, ServiceSpec, VolumeUse

if TYPE_CHECKING:
    from config.settings import Settings

PORT = 8000
ZMQ_PUSH_PORT, ZMQ_SUB_PORT = 5555, 5558
MODELS_DIR = "/workspace/models"


def env(settings: Settings) -> dict[str, Any]:
    return {
        "NODE_ENV": "production",
        "DATABASE_TYPE": "MONGODB",
        "DATABASE_URL": wiring.database_url(settings),
        "REDIS_URL": settings.names.redis_url,
        "ZMQ_PUSH_PORT": str(ZMQ_PUSH_PORT),
        "ZMQ_PUB_PORT": str(ZMQ_SUB_PORT),
        # The names the translator reads (its defaults are the same ports): set, not assumed.
        "TRANSLATOR_ZMQ_PULL_PORT": str(ZMQ_PUSH_PORT),
        "TRANSLATOR_ZMQ_PUB_PORT": str(ZMQ_SUB_PORT),
        "FASTAPI_PORT": str(PORT),
        # Every model cache on the models volume, so a new container re-downloads nothing.
        "HF_HOME": MODELS_DIR,
        "TRANSFORMERS_CACHE": MODELS_DIR,
        "HUGGINGFACE_HUB_CACHE": MODELS_DIR,
        "TORCH_HOME": f"{MODELS_DIR}/torch",
        "PYANNOTE_CACHE": f"{MODELS_DIR}/pyannote",
        "PYTHONUNBUFFERED": "1",
    }


SPEC = ServiceSpec(
    name="translator", rank=60, image="translator", port=PORT,
    health=Probe("/live", tool="python3", start_period="120s"),
    subdomain="ml", maintained=True,
    volumes=(VolumeUse("models", MODELS_DIR, keep=False),),   # re-downloadable
    env=env,
    platform_env=frozenset({
        "NODE_ENV", "DATABASE_TYPE", "DATABASE_URL", "REDIS_URL", "ZMQ_PUSH_PORT",
        "ZMQ_PUB_PORT", "TRANSLATOR_ZMQ_PULL_PORT", "TRANSLATOR_ZMQ_PUB_PORT", "FASTAPI_PORT",
        "HF_HOME", "TRANSFORMERS_CACHE", "HUGGINGFACE_HUB_CACHE", "TORCH_HOME",
        "PYANNOTE_CACHE", "PYTHONUNBUFFERED"}),
    # Values production's compose files set that the service's own defaults get wrong (it
    # defaults to 1024 and 2000); the lengths whose compose value is not recorded follow the
    # message limit, so no limit below it truncates a message production accepts.
    default_env={"MAX_MESSAGE_LENGTH": "10000", "MAX_TEXT_LENGTH": "10000",
                 "MAX_TRANSLATION_LENGTH": "10000", "MAX_TEXT_ATTACHMENT_THRESHOLD": "100000"},
    configurable=True,
    compose="translator", compose_required=True,
    app=True, after=("data",), gated=True,
)
