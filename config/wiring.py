"""How the services find each other and the public: internal URLs on the stack's network
(database with its replica set, Redis, translator and its ZeroMQ ports), CORS origins and public
URLs. Pure: values are strings, secrets stay the Outputs the settings hand over."""
from __future__ import annotations

from typing import Any

from config.settings import Settings

TRANSLATOR_PORT, GATEWAY_PORT, WEB_PORT, STATIC_PORT, AGENT_PORT = 8000, 3000, 3100, 80, 3200
MODELS_DIR = "/workspace/models"
ZMQ_PUSH_PORT, ZMQ_SUB_PORT = 5555, 5558


def database_url(settings: Settings) -> str:
    db = settings.database
    return settings.names.database_url(db.name, db.replica_set.name if db.replica_set.enabled else None)


def public_urls(settings: Settings) -> dict[str, str]:
    names = settings.names
    return {
        "web": names.url(names.web_hosts[0]),
        "www": names.url(names.web_hosts[1]),
        "gateway": names.url(names.hosts_of("gateway")[0]),
        "translator": names.url(names.hosts_of("translator")[0]),
        "static": names.url(names.hosts_of("static")[0]),
        "traefik": names.url(names.hosts_of("traefik")[0]),
    }


def cors_origins(settings: Settings) -> str:
    urls = public_urls(settings)
    return ",".join(urls[k] for k in ("web", "www", "gateway"))


def translator_env(settings: Settings) -> dict[str, Any]:
    return {
        "NODE_ENV": "production",
        "DATABASE_TYPE": "MONGODB",
        "DATABASE_URL": database_url(settings),
        "REDIS_URL": settings.names.redis_url,
        "ZMQ_PUSH_PORT": str(ZMQ_PUSH_PORT),
        "ZMQ_PUB_PORT": str(ZMQ_SUB_PORT),
        # The names the translator reads (its defaults are the same ports): set, not assumed.
        "TRANSLATOR_ZMQ_PULL_PORT": str(ZMQ_PUSH_PORT),
        "TRANSLATOR_ZMQ_PUB_PORT": str(ZMQ_SUB_PORT),
        "FASTAPI_PORT": str(TRANSLATOR_PORT),
        # Every model cache on the models volume, so a new container re-downloads nothing.
        "HF_HOME": MODELS_DIR,
        "TRANSFORMERS_CACHE": MODELS_DIR,
        "HUGGINGFACE_HUB_CACHE": MODELS_DIR,
        "TORCH_HOME": f"{MODELS_DIR}/torch",
        "PYANNOTE_CACHE": f"{MODELS_DIR}/pyannote",
        "PYTHONUNBUFFERED": "1",
    }


def gateway_env(settings: Settings) -> dict[str, Any]:
    names, sec, urls = settings.names, settings.secrets, public_urls(settings)
    translator = names.container("translator")
    agent = {"AGENT_HOST": names.container("agent")} if settings.services.enabled("agent") else {}
    return {
        **agent,
        "NODE_ENV": "production",
        "PORT": str(GATEWAY_PORT),
        "DATABASE_TYPE": "MONGODB",
        "DATABASE_URL": database_url(settings),
        "REDIS_URL": names.redis_url,
        "TRANSLATOR_URL": f"http://{translator}:{TRANSLATOR_PORT}",
        "ZMQ_TRANSLATOR_HOST": translator,
        "ZMQ_TRANSLATOR_PUSH_PORT": str(ZMQ_PUSH_PORT),
        "ZMQ_TRANSLATOR_SUB_PORT": str(ZMQ_SUB_PORT),
        # The same sockets as URLs: the production compose files set both spellings.
        "ZMQ_PUSH_URL": f"tcp://{translator}:{ZMQ_PUSH_PORT}",
        "ZMQ_SUB_URL": f"tcp://{translator}:{ZMQ_SUB_PORT}",
        "DOMAIN": names.site_domain,
        "CORS_ORIGINS": cors_origins(settings),
        "ALLOWED_ORIGINS": cors_origins(settings),
        "FRONTEND_URL": urls["web"],
        "PUBLIC_URL": urls["gateway"],
        "UPLOAD_PATH": "/app/uploads",
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


def web_env(settings: Settings) -> dict[str, Any]:
    names, urls = settings.names, public_urls(settings)
    gateway_host = names.hosts_of("gateway")[0]
    return {
        "NODE_ENV": "production",
        "PORT": str(WEB_PORT),
        "NEXT_PUBLIC_API_URL": urls["gateway"],
        "NEXT_PUBLIC_BACKEND_URL": urls["gateway"],
        "NEXT_PUBLIC_WS_URL": f"wss://{gateway_host}",
        "NEXT_PUBLIC_TRANSLATION_URL": f"{urls['translator']}/translate",
        "NEXT_PUBLIC_FRONTEND_URL": urls["web"],
        "NEXT_PUBLIC_STATIC_URL": urls["static"],
        "INTERNAL_BACKEND_URL": f"http://{names.container('gateway')}:{GATEWAY_PORT}",
    }


def agent_env(settings: Settings) -> dict[str, Any]:
    return {"NODE_ENV": "production", "PORT": str(AGENT_PORT),
            "DATABASE_URL": database_url(settings), "REDIS_URL": settings.names.redis_url}


# Both upload volumes, read-only, as production's static-files serves them: the web's uploads
# at /u/ and the gateway's at /uploads/.
STATIC_NGINX_CONF = """server {
    listen 80 default_server;
    server_name _;
    root /usr/share/nginx/html;
    location = /health { access_log off; default_type text/plain; return 200 "ok\\n"; }
    location /u/ { autoindex off; add_header Cache-Control "public, max-age=86400"; }
    location /uploads/ { autoindex off; add_header Cache-Control "public, max-age=86400"; }
    location / { return 404; }
}
"""
