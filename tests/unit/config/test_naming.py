"""Every per-stack name, host and URL derives from the stack (config/naming.py)."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from config import naming
from config.naming import StackNames

# Reserved names (production's subdomains) are refused by design: test_isolation.py tests them on their own.
stack_names = st.from_regex(r"[a-z][a-z0-9-]{0,28}[a-z0-9]", fullmatch=True).filter(
    lambda name: name not in naming.RESERVED_STACK_NAMES)


def test_docker_names_carry_the_stack():
    n = StackNames("staging", "meeshy.me")
    assert n.network == "meeshy-staging"
    assert n.container("gateway") == "meeshy-staging-gateway"
    assert n.volume("database-data") == "meeshy-staging-database-data"
    assert n.router("dashboard") == "meeshy-staging-dashboard"


def test_production_serves_the_apex_and_subdomains():
    n = StackNames("production", "meeshy.me")
    assert n.web_hosts == ("meeshy.me", "www.meeshy.me")
    assert n.hosts_of("gateway") == ("gate.meeshy.me",)
    assert n.hosts_of("translator") == ("ml.meeshy.me",)
    assert n.hosts_of("static") == ("static.meeshy.me",)
    assert n.hosts_of("traefik") == ("traefik.meeshy.me",)
    assert n.hosts_of("mongo-ui") == ("mongo.meeshy.me",)
    assert n.hosts_of("database") == ()


def test_other_stacks_serve_under_their_own_subdomain():
    n = StackNames("staging", "meeshy.me")
    assert n.web_hosts == ("staging.meeshy.me", "www.staging.meeshy.me")
    assert n.hosts_of("gateway") == ("gate.staging.meeshy.me",)
    assert n.public_hosts == ("staging.meeshy.me", "www.staging.meeshy.me", "gate.staging.meeshy.me",
                              "ml.staging.meeshy.me", "static.staging.meeshy.me")


def test_replica_member_and_urls_name_the_stacks_own_database():
    n = StackNames("rehearsal", "meeshy.me")
    assert n.replica_member == "meeshy-rehearsal-database:27017"
    assert n.database_url("meeshy", "rs0") == "mongodb://meeshy-rehearsal-database:27017/meeshy?replicaSet=rs0"
    assert n.database_url("meeshy_v2", None) == "mongodb://meeshy-rehearsal-database:27017/meeshy_v2"
    assert n.redis_url == "redis://meeshy-rehearsal-redis:6379"


@pytest.mark.parametrize("bad", ["Staging", "prod_1", "-x", "x-", "1abc", "", "a" * 31, "st ag", "é"])
def test_invalid_stack_names_are_refused(bad):
    assert naming.stack_name_error(bad)
    with pytest.raises(ValueError, match="lowercase DNS label"):
        StackNames(bad, "meeshy.me")


@given(a=stack_names, b=stack_names)
def test_two_stacks_never_share_a_name_or_host(a, b):
    if a == b:
        return
    na, nb = StackNames(a, "meeshy.me"), StackNames(b, "meeshy.me")
    def everything(n):
        return ({n.network, n.replica_member}
                | {n.container(s) for s in naming.SERVICES}
                | {n.volume(p) for p in naming.VOLUMES}
                | {h for s in naming.SERVICES for h in n.hosts_of(s)})
    assert not everything(na) & everything(nb)


@given(stack=stack_names)
def test_every_name_of_a_stack_is_prefixed_and_every_host_under_its_domain(stack):
    n = StackNames(stack, "meeshy.me")
    for s in naming.SERVICES:
        assert n.container(s).startswith(f"meeshy-{stack}-")
        for h in n.hosts_of(s):
            assert h.endswith(".meeshy.me") or h == "meeshy.me"
            assert (stack == "production") != (f".{stack}.meeshy.me" in f".{h}")
