"""Each policy rule on passing and failing resources (no CLI): the real graphs pass every rule;
a resource made wrong in one way fails exactly the rule about that."""
import pytest

from config.stack_file import StackConfigError
from policy import rules
from policy.stack_files import stack_facts
from testing.mock_pulumi import run_stack_file

C, V, N, IMG = rules.CONTAINER, rules.VOLUME, rules.NETWORK, rules.REMOTE_IMAGE


@pytest.fixture(scope="module", params=["staging", "production"])
def graph(request):
    run = run_stack_file(request.param)
    return request.param, [rules.Res(r.type, r.name, r.inputs, r.protect) for r in run.resources]


def container(stack="production", service="gateway", **props):
    base = {"name": f"meeshy-{stack}-{service}", "image": "isopen/meeshy-gateway:1.0.0",
            "networksAdvanced": [{"name": f"meeshy-{stack}"}],
            "labels": [{"label": "meeshy.service", "value": service}]}
    base.update(props)
    return rules.Res(C, f"meeshy-{stack}-{service}", base)


def facts(stack="production", **kw):
    return rules.StackFacts(stack, **kw)


def test_real_graphs_pass_every_rule(graph):
    stack, resources = graph
    f = stack_facts(stack)
    # Stacks a rehearsal or an e2e test runs meanwhile put their own files beside these two.
    committed = {name for name in f.other_stacks_ports if name in ("staging", "production")}
    assert f.declared_ports and committed == {"staging", "production"} - {stack}
    for name, rule in rules.RESOURCE_RULES.items():
        for res in resources:
            assert rule(res, f) == [], (name, res.name)
    assert rules.host_ports_isolated(resources, f) == []


def test_names_prefixed_by_stack():
    rule = rules.names_prefixed_by_stack
    assert rule(container(), facts()) == []
    assert rule(rules.Res(N, "net", {"name": "meeshy-production"}), facts()) == []
    assert rule(container(name="meeshy-gateway"), facts())[0].startswith(
        "Container 'meeshy-gateway' is not a name of stack 'production'")
    assert rule(rules.Res(V, "v", {"name": "meeshy-staging-database-data"}), facts())
    # A longer stack's names are not this stack's names.
    assert rule(rules.Res(N, "n", {"name": "meeshy-production-redis"}), facts())
    assert rule(rules.Res(V, "v", {"name": "meeshy_database_data"}),
                facts(adopted_names=frozenset({"meeshy_database_data"}))) == []


def test_no_reference_to_other_stacks():
    rule = rules.no_reference_to_other_stacks
    assert rule(container(), facts()) == []
    assert "joins network 'meeshy-staging'" in rule(
        container(networksAdvanced=[{"name": "meeshy-staging"}]), facts())[0]
    assert "mounts volume 'meeshy-staging-gateway-uploads'" in rule(
        container(volumes=[{"volumeName": "meeshy-staging-gateway-uploads",
        "containerPath": "/u"}]), facts())[0]
    assert "host path '/etc'" in rule(container(volumes=[{"hostPath": "/etc",
        "containerPath": "/e"}]), facts())[0]
    assert "host path" in rule(container(volumes=[{"hostPath": "/var/run/docker.sock",
                                                   "containerPath": "/s"}]), facts())[0]  # writable socket
    assert rule(container(volumes=[{"hostPath": "/var/run/docker.sock", "containerPath": "/s",
                                    "readOnly": True}]), facts()) == []
    assert rule(container(networkMode="host"), facts())


@pytest.mark.parametrize("ref, ok", [("isopen/meeshy-gateway:1.0.0", True), ("isopen/meeshy-gateway", False),
                                     ("isopen/meeshy-gateway:latest", False), ("nginx:alpine", False),
                                     ("nginx@sha256:" + "0" * 64, True)])
def test_images_pinned_in_production(ref, ok):
    rule = rules.images_pinned_in_production
    assert (rule(container(image=ref), facts()) == []) is ok
    assert (rule(rules.Res(IMG, "img", {"name": ref}), facts()) == []) is ok
    assert rule(container(image=ref), facts("staging")) == []  # staging may run a candidate


def test_data_volumes_protected():
    rule = rules.data_volumes_protected
    data = rules.Res(V, "meeshy-production-database-data",
                    {"name": "meeshy-production-database-data"}, protect=True)
    assert rule(data, facts()) == []
    assert rule(rules.Res(V, data.name, data.props, protect=False), facts()) == [
        "data volume 'meeshy-production-database-data' is not protected"]
    cache = rules.Res(V, "meeshy-production-models", {"name": "meeshy-production-models"})
    assert rule(cache, facts()) == []
    adopted = rules.Res(V, "meeshy-production-database-data", {"name": "meeshy_database_data"})
    assert rule(adopted, facts(adopted_names=frozenset({"meeshy_database_data"})))
    assert rule(rules.Res(V, data.name, data.props, protect=False), facts("staging")) == []


def _admin(labels):
    return container(service="mongo-ui", labels=[{"label": k, "value": v} for k, v in labels.items()])


def test_admin_uis_behind_basic_auth():
    rule = rules.admin_uis_behind_basic_auth
    r = "traefik.http.routers.meeshy-production-mongo-ui"
    routed = {"meeshy.service": "mongo-ui", "traefik.enable": "true", f"{r}.rule": "Host(`mongo.meeshy.me`)"}
    assert rule(_admin(routed), facts())[0].startswith("router 'meeshy-production-mongo-ui'")
    guarded = {**routed, f"{r}.middlewares": "meeshy-production-mongo-ui-auth",
               "traefik.http.middlewares.meeshy-production-mongo-ui-auth.basicauth.usersfile": "/auth"}
    assert rule(_admin(guarded), facts()) == []
    # The users themselves in a label: guarded, but readable by anyone who inspects the container.
    in_label = {**routed, f"{r}.middlewares": "meeshy-production-mongo-ui-auth",
                "traefik.http.middlewares.meeshy-production-mongo-ui-auth.basicauth.users": "ops:$apr1$x"}
    assert rule(_admin(in_label), facts()) == [
        "label 'traefik.http.middlewares.meeshy-production-mongo-ui-auth.basicauth.users' holds "
        "basic-auth users; name a file with basicauth.usersfile",
        "router 'meeshy-production-mongo-ui' (Host(`mongo.meeshy.me`)) exposes an admin interface "
        "without basic auth"]
    # A middleware that is named but not a basic auth does not count.
    assert rule(_admin({**routed, f"{r}.middlewares": "meeshy-production-compress"}), facts())
    dashboard = {"meeshy.service": "traefik", "traefik.enable": "true",
                 "traefik.http.routers.d.rule": "Host(`traefik.meeshy.me`)",
                 "traefik.http.routers.d.service": "api@internal"}
    assert rule(container(service="traefik", labels=[{"label": k, "value": v} for k, v in dashboard.items()]),
                facts())
    assert rule(container(), facts()) == []  # an application router needs no auth


def test_no_published_data_ports_in_production():
    rule = rules.no_published_data_ports_in_production
    db = container(service="database", ports=[{"internal": 27017, "external": 27017}])
    assert rule(db, facts())[0].startswith(
        "production container 'meeshy-production-database' publishes host ports [27017]")
    assert rule(db, facts("staging")) == []
    traefik = container(service="traefik", ports=[{"internal": 443, "external": 443}])
    assert rule(traefik, facts()) == []


def test_host_ports_isolated():
    rule = rules.host_ports_isolated
    t = container(service="traefik", ports=[{"internal": 80, "external": 80},
                                                 {"internal": 443, "external": 443}])
    f = facts(declared_ports=frozenset({80, 443}), other_stacks_ports={"staging": frozenset({8080, 8443})})
    assert rule([t], f) == []
    dup = container(service="web", ports=[{"internal": 3100, "external": 443}])
    assert "host port 443 is published by both" in rule([t, dup], f)[0]
    undeclared = container(service="web", ports=[{"internal": 3100, "external": 3100}])
    assert rule([t, undeclared], f) == ["'meeshy-production-web' publishes host port 3100, which "
                                        "meeshy:ports of stack 'production' does not declare"]
    clash = facts(declared_ports=frozenset({80, 443}), other_stacks_ports={"rehearsal": frozenset({443})})
    assert rule([t], clash) \
    == ["host port 443 ('meeshy-production-traefik') is also declared by stack 'rehearsal'"]


def test_stack_of_urn():
    assert rules.stack_of_urn("urn:pulumi:staging::meeshy::docker:index/volume:Volume::x") == "staging"


def test_stack_facts_read_the_stack_files(tmp_path):
    (tmp_path / "Pulumi.a.yaml").write_text("config:\n  meeshy:ports: {http: 81, https: 444}\n"
                                            "  meeshy:adopt: {volumes: {database-data: old_db}}\n")
    (tmp_path / "Pulumi.b.yaml").write_text("config:\n  meeshy:ports: {http: 82, https: 445, redis: 6390}\n")
    f = stack_facts("a", tmp_path)
    assert f.declared_ports == {81, 444} and f.adopted_names == {"old_db"}
    assert f.other_stacks_ports == {"b": {82, 445, 6390}}
    assert stack_facts("c", tmp_path).declared_ports is None


def test_another_stacks_unreadable_file_is_passed_over_but_not_this_stacks(tmp_path):
    (tmp_path / "Pulumi.a.yaml").write_text("config:\n  meeshy:ports: {http: 81, https: 444}\n")
    (tmp_path / "Pulumi.b.yaml").write_text("config:\n  meeshy:ports: {http: 82, https: 445}\n")
    (tmp_path / "Pulumi.broken.yaml").write_text("config:\n  meeshy:domain: [unclosed\n  x:\n")
    assert stack_facts("a", tmp_path).other_stacks_ports == {"b": {82, 445}}
    with pytest.raises(StackConfigError, match="Pulumi.broken.yaml"):
        stack_facts("broken", tmp_path)


def test_committed_stack_files_never_share_a_host_port():
    seen = {}
    for stack in ("staging", "production"):
        for port in stack_facts(stack).declared_ports:
            assert port not in seen, (port, stack, seen.get(port))
            seen[port] = stack
    assert len(seen) == 6


def test_the_pack_wires_every_rule(monkeypatch, graph):
    """policy/__main__.py registers each rule and hands it the resource and the stack's facts."""
    import runpy
    import types

    import pulumi_policy

    packs = []
    monkeypatch.setattr(pulumi_policy, "PolicyPack", lambda **kw: packs.append(kw))
    runpy.run_path("policy/__main__.py", run_name="__main__")
    (pack,) = packs
    assert pack["enforcement_level"] == pulumi_policy.EnforcementLevel.MANDATORY
    by_name = {p.name: p for p in pack["policies"]}
    assert set(by_name) == {*rules.RESOURCE_RULES, "meeshy-host-ports-isolated"}
    stack, resources = graph
    bad = container(stack=stack, name="meeshy-gateway")
    args = types.SimpleNamespace(resource_type=bad.type, name=bad.name, props=bad.props,
                                 urn=f"urn:pulumi:{stack}::meeshy::{bad.type}::x",
                                 opts=types.SimpleNamespace(protect=False))
    seen = []
    by_name["meeshy-names-prefixed-by-stack"].validate(args, seen.append)
    assert seen and "meeshy-gateway" in seen[0]
    stack_args = types.SimpleNamespace(resources=[types.SimpleNamespace(
        resource_type=r.type, name=r.name, props=r.props,
        urn=f"urn:pulumi:{stack}::meeshy::{r.type}::{r.name}",
        opts=types.SimpleNamespace(protect=r.protect)) for r in resources])
    seen.clear()
    by_name["meeshy-host-ports-isolated"].validate(stack_args, seen.append)
    assert seen == []


def test_stack_facts_are_read_once_and_again_when_a_stack_file_changes(tmp_path, monkeypatch):
    import policy.stack_files as stack_files

    (tmp_path / "Pulumi.a.yaml").write_text("config:\n  meeshy:ports: {http: 81, https: 444}\n")
    reads = []
    real = stack_files.parse_stack
    monkeypatch.setattr(stack_files, "parse_stack", lambda *a, **k: reads.append(a[0]) or real(*a, **k))
    for _ in range(5):
        assert stack_facts("a", tmp_path).declared_ports == {81, 444}
    assert reads == ["a"]
    (tmp_path / "Pulumi.b.yaml").write_text("config:\n  meeshy:ports: {http: 82, https: 445}\n")
    assert stack_facts("a", tmp_path).other_stacks_ports == {"b": {82, 445}}
    (tmp_path / "Pulumi.a.yaml").write_text("config:\n  meeshy:ports: {http: 83, https: 446}\n")
    assert stack_facts("a", tmp_path).declared_ports == {83, 446}
