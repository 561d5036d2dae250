"""One declaration per service: each module of this package holds one `SPEC` (spec.py), and
this package finds them, so adding a service is one module (plus its test and its row in
docs/configuration.md). Everything here derives from the specs; nothing lists services."""
from __future__ import annotations

import importlib
import pkgutil

from config.services.spec import ADMIN_UIS, ALWAYS, SETTING, Probe, ServiceSpec, VolumeUse

__all__ = ["SPECS", "ServiceSpec", "Probe", "VolumeUse", "ALWAYS", "ADMIN_UIS", "SETTING", "by_name",
           "names", "volumes", "optional_volumes", "subdomains", "image_keys", "app_specs",
           "configurable", "optional", "compose_services"]


def _discover() -> tuple[ServiceSpec, ...]:
    found = []
    for module in pkgutil.iter_modules(__path__):
        if module.name != "spec":
            found.append(importlib.import_module(f"{__name__}.{module.name}").SPEC)
    return tuple(sorted(found, key=lambda s: s.rank))


SPECS: tuple[ServiceSpec, ...] = _discover()
_BY_NAME = {s.name: s for s in SPECS}


def by_name(name: str) -> ServiceSpec:
    return _BY_NAME[name]


def names() -> tuple[str, ...]:
    return tuple(s.name for s in SPECS)


def volumes() -> dict[str, bool]:
    """Volume purpose -> holds data that must survive every update, for every owned volume."""
    return {v.purpose: v.keep for s in SPECS for v in s.volumes if v.owner}


def optional_volumes() -> tuple[str, ...]:
    """Volumes only an optional service declares (meeshy:services.<service>.enabled)."""
    return tuple(v.purpose for s in SPECS if s.optional for v in s.volumes if v.owner)


def subdomains() -> dict[str, str]:
    return {s.name: s.subdomain for s in SPECS if s.subdomain}


def image_keys() -> tuple[str, ...]:
    return tuple(s.image for s in SPECS if s.image)


def app_specs() -> tuple[ServiceSpec, ...]:
    """The services the generic AppService runs."""
    return tuple(s for s in SPECS if s.app)


def configurable() -> tuple[ServiceSpec, ...]:
    """Services that accept meeshy:services.<name>."""
    return tuple(s for s in SPECS if s.configurable)


def optional() -> tuple[ServiceSpec, ...]:
    """Services a setting of their own (or of the service they serve) enables."""
    return tuple(s for s in SPECS if s.optional)


def compose_services() -> dict[str, str]:
    """Compose service of today's production -> the stack's service that replaces it."""
    return {s.compose: s.name for s in SPECS if s.compose}
