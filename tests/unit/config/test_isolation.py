"""Isolation by construction, as properties over generated stack names and ports: two stacks on
one Docker host share no container, volume, network, router, host name or host port, and
nothing in one stack's graph references the other's resources."""
import re

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from config import naming
from config.stack_settings import parse_stack
from policy import rules
from policy.stack_files import declared_mounts
from testing.mock_pulumi import run_stack_file, stack_file_config

LABEL = r"[a-z][a-z0-9-]{0,12}[a-z0-9]"
FRAGMENTS = ["redis", "mongo", "database", "gateway", "ui", "data", "web", "static", "docker", "x"]


@st.composite
def two_stacks(draw):
    a = draw(st.from_regex(LABEL, fullmatch=True).filter(lambda s: naming.stack_name_error(s) is None))
    # Half the time B extends A (a / a-mongo): the case where a bare prefix check goes wrong.
    b = draw(st.one_of(
        st.from_regex(LABEL, fullmatch=True),
        st.sampled_from(FRAGMENTS).map(lambda f: f"{a}-{f}"),
        st.just("production")))
    if b == a or naming.stack_name_error(b) is not None or len(b) > 30:
        b = f"{a}-b" if len(a) < 28 else "other"
    ports = draw(st.lists(st.integers(1024, 65535), min_size=8, max_size=8, unique=True))
    return (a, ports[:4]), (b, ports[4:])


def run_for(stack, ports):
    declared = {"http": ports[0], "https": ports[1]}
    if stack != "production":
        declared.update(database=ports[2], redis=ports[3])
    file = "production" if stack == "production" else "staging"
    return run_stack_file(stack, {"meeshy:ports": declared}, file=file), declared


def footprint(run):
    """Everything a stack claims on the shared engine and on the public DNS."""
    names, hosts, routers, ports = set(), set(), set(), set()
    for r in run.resources:
        if r.type in (rules.CONTAINER, rules.VOLUME, rules.NETWORK):
            names.add((r.type, r.inputs["name"]))
        for label in r.inputs.get("labels") or []:
            key = label["label"]
            if key.startswith("traefik.http."):
                routers.add(key.split(".")[3])
            hosts.update(re.findall(r"Host\(`([^`]+)`\)", str(label["value"])))
        ports.update(int(p["external"]) for p in r.inputs.get("ports") or [])
    return names, hosts, routers, ports


# No shrinking: each example runs the program twice (~1 s), and a failing pair of stack names
# is readable as generated.
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          phases=(Phase.explicit, Phase.reuse, Phase.generate))
@given(two_stacks())
def test_two_stacks_share_nothing(pair):
    (a, a_ports), (b, b_ports) = pair
    run_a, declared_a = run_for(a, a_ports)
    run_b, declared_b = run_for(b, b_ports)
    fa, fb = footprint(run_a), footprint(run_b)
    for mine, theirs in zip(fa, fb):
        assert not mine & theirs
    assert fa[3] == set(declared_a.values()) and fb[3] == set(declared_b.values())
    for run, fp in ((run_a, fa), (run_b, fb)):
        # The host files the stack file mounts on purpose (production's Firebase credentials).
        file = "production" if run.stack == "production" else "staging"
        declared = declared_mounts(parse_stack(file, stack_file_config(file)))
        facts = rules.StackFacts(run.stack, declared_mounts=declared)
        own = {n for _, n in fp[0]} | fp[2]
        # A resource's id (the mocks give `<name>-id`) is its own: the handover drains by id.
        own |= {f"{r.name}-id" for r in run.resources}
        for r in run.resources:
            res = rules.Res(r.type, r.name, r.inputs, r.protect)
            assert not rules.names_prefixed_by_stack(res, facts)
            assert not rules.no_reference_to_other_stacks(res, facts)
            # Every Docker or router name a resource mentions (in URLs, commands, labels) is one
            # its own stack declares: nothing points at the other stack.
            # (An image repository such as `meeshy-local/...` is not a Docker name of the stack.)
            mentioned = {m for text in _strings(r.inputs)
                         for m in re.findall(r"(?<![/\w-])meeshy-[a-z0-9-]*[a-z0-9](?![/\w-])", text)}
            assert mentioned <= own, (r.name, mentioned - own)


def _strings(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, str):
        yield value


@given(st.from_regex(LABEL, fullmatch=True).filter(lambda s: naming.stack_name_error(s) is None))
def test_names_a_stack_declares_are_owned_by_it_and_by_no_other(stack):
    n = naming.StackNames(stack, "meeshy.me")
    for service in naming.SERVICES:
        assert naming.owned_by(stack, n.container(service), "container")
        for fragment in FRAGMENTS:
            assert not naming.owned_by(f"{stack}-{fragment}", n.container(service), "container")
    for purpose in naming.VOLUMES:
        assert naming.owned_by(stack, n.volume(purpose), "volume")
    assert naming.owned_by(stack, n.network, "network")
    assert not naming.owned_by(stack, f"meeshy-{stack}-other", "network")


def test_stack_names_that_would_take_production_hosts_are_reserved():
    for name in ("gate", "ml", "static", "traefik", "mongo", "redis", "www"):
        assert "reserved" in naming.stack_name_error(name)
