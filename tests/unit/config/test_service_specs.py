"""The service declarations (config/services/): what every consumer derives from them holds
together, so a new declaration is checked by these tests without touching them."""
from __future__ import annotations

import pytest

from commands import services as commands
from config import naming, services
from config.service_settings import PLATFORM_ENV
from config.settings_sections import IMAGE_KEYS, OPTIONAL_IMAGES
from takeover.audit import config_diff, expected

NAMES = [s.name for s in services.SPECS]


def test_every_module_declares_one_service_by_a_unique_name_and_rank():
    assert len(set(NAMES)) == len(NAMES) and len({s.rank for s in services.SPECS}) == len(NAMES)
    assert [s.rank for s in services.SPECS] == sorted(s.rank for s in services.SPECS)
    assert {"gateway", "translator", "web", "static", "agent", "coturn", "traefik", "database",
            "redis", "mongo-ui", "redis-ui", "maintenance", "certs-dumper"} <= set(NAMES)


def test_naming_is_derived_from_the_declarations():
    assert naming.SERVICES == tuple(NAMES)
    owned = [u.purpose for s in services.SPECS for u in s.volumes if u.owner]
    assert list(naming.VOLUMES) == owned and len(set(owned)) == len(owned)
    # A volume a service mounts without owning it is declared by another.
    assert {u.purpose for s in services.SPECS for u in s.volumes} == set(owned)
    assert naming.SUBDOMAINS == {s.name: s.subdomain for s in services.SPECS if s.subdomain}
    assert len(set(naming.SUBDOMAINS.values())) == len(naming.SUBDOMAINS)


@pytest.mark.parametrize("spec", services.SPECS, ids=NAMES)
def test_each_declaration_is_whole(spec):
    if spec.image:
        assert spec.image in IMAGE_KEYS
        assert (spec.image in OPTIONAL_IMAGES) == (spec.runs != services.ALWAYS
                                                   or bool(spec.image_default))
    if spec.app:
        assert spec.port and spec.image
        assert commands.HEALTH_ENDPOINTS[spec.name] == (spec.port, spec.health.path)
        assert commands.service_probe(spec.name)[-1] == f"http://localhost:{spec.port}{spec.health.path}"
        assert all(a in ("data", "checked") or a in NAMES for a in spec.after)
    if spec.env:
        assert PLATFORM_ENV[spec.name] == spec.platform_env
        assert not set(spec.default_env) & spec.platform_env
    if spec.options:
        assert spec.configurable and spec.parse_options
    if spec.runs not in (services.ALWAYS, services.ADMIN_UIS, services.SETTING):
        assert services.by_name(spec.runs).runs == services.SETTING   # runs with that service
    assert spec.health.start_period.endswith("s")


def test_the_audit_maps_compose_services_and_mounts_through_the_declarations():
    assert config_diff.STACK_SERVICE["frontend"] == "web"
    assert config_diff.STACK_SERVICE["static-files"] == "static"
    for (compose, path), purpose in expected.DATA_MOUNTS.items():
        spec = services.by_name(config_diff.STACK_SERVICE[compose])
        assert any(u.path == path and u.purpose == purpose for u in spec.volumes)
    required = {s.compose for s in services.SPECS if s.compose_required}
    assert {c for c, needed in expected.EXPECTED_SERVICES.items() if needed} == required
