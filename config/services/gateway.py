"""The gateway (Fastify API and WebSocket): the translator's client and the web's backend."""
from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING, Any

from config import wiring
from config.services import translator
from config.services.spec import Probe, ServiceSpec, VolumeUse

if TYPE_CHECKING:
    from config.settings import Settings

PORT = 3000
UPLOADS = "/app/uploads"


def env(settings: Settings) -> dict[str, Any]:
    names, sec, urls = settings.names, settings.secrets, wiring.public_urls(settings)
    host = names.container("translator")
    agent = {"AGENT_HOST": names.container("agent")} if settings.services.enabled("agent") else {}
    return {
        **agent,
        "NODE_ENV": "production",
        "PORT": str(PORT),
        "DATABASE_TYPE": "MONGODB",
        "DATABASE_URL": wiring.database_url(settings),
        "REDIS_URL": names.redis_url,
        "TRANSLATOR_URL": f"http://{host}:{translator.PORT}",
        "ZMQ_TRANSLATOR_HOST": host,
        "ZMQ_TRANSLATOR_PUSH_PORT": str(translator.ZMQ_PUSH_PORT),
        "ZMQ_TRANSLATOR_SUB_PORT": str(translator.ZMQ_SUB_PORT),
        # The same sockets as URLs: the production compose files set both spellings.
        "ZMQ_PUSH_URL": f"tcp://{host}:{translator.ZMQ_PUSH_PORT}",
        "ZMQ_SUB_URL": f"tcp://{host}:{translator.ZMQ_SUB_PORT}",
        "DOMAIN": names.site_domain,
        "CORS_ORIGINS": wiring.cors_origins(settings),
        "ALLOWED_ORIGINS": wiring.cors_origins(settings),
        "FRONTEND_URL": urls["web"],
        "PUBLIC_URL": urls["gateway"],
        "UPLOAD_PATH": UPLOADS,
        "JWT_SECRET": sec.jwt_secret.output(),
        # Never let a deploy reset the data: the seed users are created only when absent.
        "FORCE_DB_RESET": "false",
        "ADMIN_EMAIL": f"admin@{settings.domain}",
        "ADMIN_PASSWORD": sec.admin_password.output(),
        "MEESHY_EMAIL": f"meeshy@{settings.domain}",
        "MEESHY_PASSWORD": sec.meeshy_password.output(),
        "ATABETH_EMAIL": f"atabeth@{settings.domain}",
        "ATABETH_PASSWORD": sec.atabeth_password.output(),
    }


def _master_key(text: str) -> str | None:
    """As the gateway reads ENCRYPTION_MASTER_KEY and ATTACHMENT_MASTER_KEY (Node's lenient
    Buffer.from(value, 'base64'): either alphabet, padding optional) and refuses to start unless
    they decode to 32 bytes (EncryptionService, AttachmentEncryptionService)."""
    letters = text.strip().rstrip("=").replace("-", "+").replace("_", "/")
    try:
        size = len(base64.b64decode(letters + "=" * (-len(letters) % 4)))
    except (binascii.Error, ValueError):
        size = -1
    return None if size == 32 else (
        "expected 32 random bytes in base64 (`openssl rand -base64 32`); Meeshy's gateway "
        "refuses to start otherwise (value not shown)")


def _turn_secret(text: str) -> str | None:
    """TURNCredentialService refuses a TURN_SECRET under 32 characters when NODE_ENV is
    production (as the platform sets it)."""
    return None if len(text) >= 32 else (
        "expected at least 32 characters (`openssl rand -hex 32`); Meeshy's gateway refuses "
        "to start otherwise (value not shown)")


SPEC = ServiceSpec(
    name="gateway", rank=30, image="gateway", port=PORT,
    health=Probe("/health", tool="curl"),
    subdomain="gate", maintained=True,
    volumes=(VolumeUse("gateway-uploads", UPLOADS),
             VolumeUse("gateway-sounds", "/app/sounds", audited=False)),  # HEAD's sound library
    env=env,
    platform_env=frozenset({
        "NODE_ENV", "PORT", "DATABASE_TYPE", "DATABASE_URL", "REDIS_URL", "TRANSLATOR_URL",
        "ZMQ_TRANSLATOR_HOST", "ZMQ_TRANSLATOR_PUSH_PORT", "ZMQ_TRANSLATOR_SUB_PORT",
        "ZMQ_PUSH_URL", "ZMQ_SUB_URL", "DOMAIN", "CORS_ORIGINS", "ALLOWED_ORIGINS",
        "FRONTEND_URL", "PUBLIC_URL", "UPLOAD_PATH", "JWT_SECRET", "FORCE_DB_RESET",
        "ADMIN_EMAIL", "ADMIN_PASSWORD", "MEESHY_EMAIL", "MEESHY_PASSWORD", "ATABETH_EMAIL",
        "ATABETH_PASSWORD", "AGENT_HOST"}),
    default_env={"MAX_TRANSLATION_LENGTH": "10000", "UPLOAD_DIR": UPLOADS},
    configurable=True,
    secret_env_checks={"ENCRYPTION_MASTER_KEY": _master_key, "ATTACHMENT_MASTER_KEY": _master_key,
                       "TURN_SECRET": _turn_secret},
    compose="gateway", compose_required=True,
    app=True, after=("data", "translator"), compress=True, gated=True,
)
