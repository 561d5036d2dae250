"""How the services find each other and the public: the database URL with its replica set,
CORS origins and public URLs. Each service's own variables are in its declaration
(config/services/). Pure: values are strings, secrets stay the Outputs the settings hand over."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from config.settings import Settings


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
