"""Traefik router labels for a stack's containers (pure: dicts of label -> value).

Router, service and middleware names carry the stack prefix: Traefik's docker provider sees the
labels of every container on the engine, and each stack's Traefik only keeps its own through the
`meeshy.stack` constraint, so names must never clash even if a constraint were lost.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from config.naming import STACK_LABEL, StackNames

CERT_RESOLVER = "letsencrypt"
ENTRYPOINT = "websecure"
MAINTENANCE_PRIORITY = 100000   # above any rule-length priority Traefik computes
# The file Traefik's file provider watches: the shared middlewares, and the maintenance page's
# router while maintenance is on (maintenance_route.py).
DYNAMIC_CONFIG_PATH = "/etc/traefik/dynamic.yaml"
# The stack's retry middleware (defined by the labels of each rolling container, identical on
# all of them, so Traefik merges them). Traefik retries only a request it could not send: one
# that reached a stopping container's closed port goes to the other server, and no write is
# ever sent twice.
RETRY = "retry"
RETRY_ATTEMPTS = 3
RETRY_FIRST_WAIT = "100ms"


def host_rule(hosts: Sequence[str]) -> str:
    if not hosts:
        raise ValueError("a router needs at least one host")
    return " || ".join(f"Host(`{h}`)" for h in hosts)


def cert_resolver(settings) -> str | None:
    """The ACME resolver routers ask for their certificate, or None (meeshy:acme.enabled false:
    a stack no CA can reach, such as a rehearsal's, serves Traefik's default certificate and
    never calls the CA)."""
    return CERT_RESOLVER if settings.acme.enabled else None


def router_labels(names: StackNames, router: str, hosts: Sequence[str], *, port: int | None = None,
                  internal_service: str | None = None, middlewares: Sequence[str] = (),
                  priority: int | None = None, resolver: str | None = CERT_RESOLVER) -> dict[str, str]:
    """Labels routing `hosts` over HTTPS to this container's `port` (or to a Traefik-internal
    service such as `api@internal`), with a certificate from `resolver` (cert_resolver)."""
    if (port is None) == (internal_service is None):
        raise ValueError("give exactly one of port and internal_service")
    r = names.router(router)
    labels = {
        "traefik.enable": "true",
        f"traefik.http.routers.{r}.rule": host_rule(hosts),
        f"traefik.http.routers.{r}.entrypoints": ENTRYPOINT,
    }
    if resolver:
        labels[f"traefik.http.routers.{r}.tls.certresolver"] = resolver
    else:
        labels[f"traefik.http.routers.{r}.tls"] = "true"
    if internal_service:
        labels[f"traefik.http.routers.{r}.service"] = internal_service
    else:
        labels[f"traefik.http.routers.{r}.service"] = r
        labels[f"traefik.http.services.{r}.loadbalancer.server.port"] = str(port)
    if middlewares:
        # `name@provider` (e.g. compress@file) is already global; the stack's own are prefixed.
        labels[f"traefik.http.routers.{r}.middlewares"] = ",".join(
            m if "@" in m else names.router(m) for m in middlewares)
    if priority is not None:
        labels[f"traefik.http.routers.{r}.priority"] = str(priority)
    return labels


def basic_auth_labels(names: StackNames, middleware: str, users_file: str) -> dict[str, str]:
    """Basic-auth middleware reading its htpasswd entries from `users_file`, a path inside the
    Traefik container (see traefik.auth_files): the entries never sit in a label, which
    `docker inspect` shows to anyone with access to the engine."""
    return {f"traefik.http.middlewares.{names.router(middleware)}.basicauth.usersfile": users_file}


def retry_labels(names: StackNames) -> dict[str, str]:
    m = f"traefik.http.middlewares.{names.router(RETRY)}.retry"
    return {f"{m}.attempts": str(RETRY_ATTEMPTS), f"{m}.initialinterval": RETRY_FIRST_WAIT}


def identity_labels(names: StackNames, service: str) -> dict[str, str]:
    return {STACK_LABEL: names.stack, "meeshy.service": service}


def disabled_labels() -> dict[str, str]:
    return {"traefik.enable": "false"}


def merge(*parts: Mapping[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for part in parts:
        for key, value in part.items():
            if key in merged:
                raise ValueError(f"label {key!r} set twice")
            merged[key] = value
    return merged
