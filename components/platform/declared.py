"""Every container the platform declares for a stack's settings, as pure ContainerSpecs (no
resource is created, no engine runs): the takeover compares them with the compose containers
they replace. Each comes from the builder its component uses, so the two cannot drift apart
(tests/unit/takeover/test_audit_config.py compares them with the program's own declaration)."""
from __future__ import annotations

from components.platform.admin import mongo_ui_container, redis_ui_container
from components.platform.app_service import app_container
from components.platform.containers import ContainerSpec
from components.platform.coturn import coturn_container, dumper_container
from components.platform.maintenance import maintenance_container
from components.platform.mongo import database_container
from components.platform.redis import redis_container
from components.platform.traefik import traefik_container
from config import naming, services
from config.settings import Settings


def declared_containers(settings: Settings) -> dict[str, ContainerSpec]:
    """Service -> the container the platform declares for it, for the services it runs."""
    names = settings.names
    volume = {p: settings.adopt.volumes.get(p) or names.volume(p) for p in naming.VOLUMES}
    found = [traefik_container(settings, volume["traefik-certs"]),
             database_container(settings, volume["database-data"], volume["database-config"]),
             redis_container(settings, volume["redis-data"])]
    found += [app_container(settings, spec, volume) for spec in services.app_specs()
              if settings.services.enabled(spec.name)]
    found.append(maintenance_container(settings))
    if settings.admin_uis:
        found += [mongo_ui_container(settings), redis_ui_container(settings, volume["redis-ui-data"])]
    if settings.services.enabled("coturn"):
        found += [dumper_container(settings, volume["traefik-certs"], volume["turn-certs"]),
                  coturn_container(settings, volume["turn-certs"])]
    return {spec.service: spec for spec in found}
