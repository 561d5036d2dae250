"""How the services find each other and the public: the database URL with its replica set,
CORS origins and public URLs. Each service's own variables are in its declaration
(config/services/). Pure: values are strings, secrets stay the Outputs the settings hand over."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from config.settings import Settings


# How a client logs in to a server that needs it (the documentdb image: SCRAM, users in admin),
# and the login that image creates (images/documentdb/).
DOCUMENTDB_USER = "meeshy"
LOGIN_OPTIONS = "authSource=admin&authMechanism=SCRAM-SHA-256"


def with_login(url: str, user: str, password: str) -> str:
    """`mongodb://host/db[?opts]` with a login: the password must be URL-safe (the settings
    check it), so nothing is escaped and nothing can change the URL's shape."""
    scheme, rest = url.split("://", 1)
    joiner = "&" if "?" in rest else "?"
    return f"{scheme}://{user}:{password}@{rest}{joiner}{LOGIN_OPTIONS}"


def database_url(settings: Settings, url: str | None = None) -> Any:
    """The services' database URL (or `url`, another address of the same server): a plain
    string, or a secret Output carrying the login for a server that needs one."""
    db = settings.database
    if url is None:
        url = settings.names.database_url(
            db.name, db.replica_set.name if db.replica_set.enabled else None)
    if not db.needs_login:
        return url
    return settings.secrets.database_password.output().apply(
        lambda password: with_login(url, DOCUMENTDB_USER, password))


def database_env(settings: Settings) -> dict[str, Any]:
    """The database container's own variables: the login a server that needs one creates."""
    if not settings.database.needs_login:
        return {}
    return {"DOCUMENTDB_USERNAME": DOCUMENTDB_USER,
            "DOCUMENTDB_PASSWORD": settings.secrets.database_password.output()}


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
