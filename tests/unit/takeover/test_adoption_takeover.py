"""The takeover graph under Pulumi mocks, fed with what the audit suggests: every adopted data
volume is imported (never created), protected and retained, and mounted where the compose
deployment mounted it. Complements tests/unit/components/test_platform_variants.py (P's adoption test)
with the audit's side of the contract."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config import naming
from takeover.audit import expected as audit_expected
from testing.mock_pulumi import run_stack_file

# The compose service whose container holds each purpose -> the stack's service of that name.
STACK_SERVICE = {"database": "database", "redis": "redis", "traefik": "traefik", "translator": "translator",
                 "gateway": "gateway", "frontend": "web", "p3x-redis-ui": "redis-ui"}
# What an audit of today's production suggests (names as compose made them).
# Volumes every stack declares (coturn's, an optional service, are not in a default graph).
DECLARED = [p for p in naming.VOLUMES if p not in naming.OPTIONAL_VOLUMES]
SUGGESTED = {"volumes": {p: f"meeshy_{p.replace('-', '_')}" for p in DECLARED},
             "networks": {"main": {"name": "meeshy-network", "id": "0c0ffee"}}}


def mounted(run, service: str) -> dict[str, str]:
    volumes = run.container(service).inputs.get("volumes") or []
    return {m["containerPath"]: m.get("volumeName") for m in volumes}


def test_audit_mount_roles_are_where_the_stack_mounts_the_same_purposes():
    """The audit recognises a volume by where compose mounts it; the stack must mount the
    adopted volume at that same place, or the new service would not see the old data."""
    run = run_stack_file("production", {"meeshy:adopt": SUGGESTED})
    for (compose_service, destination), purpose in audit_expected.DATA_MOUNTS.items():
        mounted_volume = mounted(run, STACK_SERVICE[compose_service])[destination]
        assert mounted_volume == SUGGESTED["volumes"][purpose], purpose


def test_full_takeover_graph_imports_every_volume_and_creates_none():
    run = run_stack_file("production", {"meeshy:adopt": SUGGESTED})
    volumes = run.of_type(":Volume")
    assert sorted(v.inputs["name"] for v in volumes) == sorted(SUGGESTED["volumes"].values())
    for v in volumes:
        assert v.import_id == v.inputs["name"], v.name         # a preview shows an import
        assert v.protect and v.retain_on_delete, v.name
        assert "labels" in v.ignore_changes                    # compose's labels are kept as they are
    assert run.named("meeshy-production", ":Network").import_id == "0c0ffee"


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(sorted(DECLARED)),
                       st.from_regex(r"[a-z][a-z0-9_]{2,20}", fullmatch=True), min_size=1)
       .filter(lambda d: len(set(d.values())) == len(d)))
def test_any_adopted_subset_is_imported_and_nothing_recreates_it(adopted):
    run = run_stack_file("production", {"meeshy:adopt": {"volumes": adopted}})
    by_name = {}
    for v in run.of_type(":Volume"):
        by_name.setdefault(v.inputs["name"], []).append(v)
    for purpose, existing in adopted.items():
        [v] = by_name[existing]                                 # declared once, and only as an import
        assert v.import_id == existing and v.protect and v.retain_on_delete
    created = {name for name, vs in by_name.items() if any(not v.import_id for v in vs)}
    assert not created & set(adopted.values())
    # Every volume not adopted keeps the stack's own name.
    assert created == {naming.StackNames("production", "meeshy.me").volume(p)
                       for p in DECLARED if p not in adopted}


def test_one_volume_adopted_for_two_purposes_is_refused():
    with pytest.raises(Exception, match=r"meeshy:adopt\.volumes"):
        run_stack_file("production", {"meeshy:adopt": {"volumes": {"database-data": "meeshy_data",
                                                                   "redis-data": "meeshy_data"}}})
