"""HEAD's optional services under Pulumi mocks: absent by default; with their settings, coturn
and its certificate dumper are declared, routed, health-checked, wired to Traefik's certificates
and keep their shared secret out of plain text; a public agent is routed at agent.<site>."""
import pytest

from config.stack_settings import parse_stack
from policy import rules
from policy.stack_files import declared_mounts
from testing.mock_pulumi import EXAMPLE_SECRETS, run_stack_file, stack_file_config

TURN_SECRET = "turn-rest-secret-4242-0123456789abcdef"   # 32+: the gateway checks it
IMAGES = {**stack_file_config("production")["meeshy:images"], "coturn": "coturn/coturn:4.6.3",
          "certsDumper": "ldez/traefik-certs-dumper:v2.10.0", "agent": "isopen/meeshy-agent:1.0.0"}
SERVICES = {"coturn": {"enabled": True, "authSecret": "turn", "minPort": 49160, "maxPort": 49162,
                       "healthcheck": ["turnutils_stunclient", "127.0.0.1"]},
            "gateway": {"secretEnv": {"TURN_SECRET": "turn"}},
            "agent": {"enabled": True, "public": True}}


@pytest.fixture(scope="module")
def run():
    return run_stack_file("production", {"meeshy:images": IMAGES, "meeshy:services": SERVICES},
                          secrets={**EXAMPLE_SECRETS, "meeshy:serviceSecrets": {"turn": TURN_SECRET}})


def labels(res):
    return {label["label"]: label["value"] for label in res.inputs.get("labels") or []}


def test_not_declared_by_default():
    names = {r.inputs.get("name") for r in run_stack_file("staging").of_type(":Container")}
    assert not {"meeshy-staging-agent", "meeshy-staging-coturn", "meeshy-staging-certs-dumper"} & names


def test_coturn_reads_the_certificates_the_dumper_exports_from_traefik(run):
    dumper, coturn = run.container("certs-dumper"), run.container("coturn")
    dm = {m["containerPath"]: m for m in dumper.inputs["volumes"]}
    assert dm["/letsencrypt"]["volumeName"] == "meeshy-production-traefik-certs"
    assert dm["/letsencrypt"]["readOnly"] is True              # never writes Traefik's store
    assert dm["/certs"]["volumeName"] == "meeshy-production-turn-certs"
    cm = {m["containerPath"]: m for m in coturn.inputs["volumes"]}
    assert cm["/certs"] == {**cm["/certs"], "volumeName": "meeshy-production-turn-certs", "readOnly": True}
    assert dumper.urn in coturn.dependencies
    assert "/certs/turn.meeshy.me/certificate.crt" in dumper.inputs["healthcheck"]["tests"]
    assert coturn.inputs["healthcheck"]["tests"] == ["CMD", "turnutils_stunclient", "127.0.0.1"]


def test_coturn_is_published_and_its_host_gets_a_certificate(run):
    coturn = run.container("coturn")
    ports = {(int(p["internal"]), p["protocol"]) for p in coturn.inputs["ports"]}
    assert {(3478, "udp"), (3478, "tcp"), (5349, "tcp"), (5349, "udp")} <= ports
    assert {(p, "udp") for p in (49160, 49161, 49162)} <= ports and len(ports) == 7
    lab = labels(coturn)
    r = "traefik.http.routers.meeshy-production-coturn"
    assert lab[f"{r}.rule"] == "Host(`turn.meeshy.me`)" and lab[f"{r}.service"] == "noop@internal"
    assert lab[f"{r}.tls.certresolver"] == "letsencrypt"


def test_the_turn_secret_is_only_in_secret_inputs(run):
    coturn = run.container("coturn")
    config = {u["file"]: u for u in coturn.inputs["uploads"]}["/etc/coturn/turnserver.conf"]
    assert f"static-auth-secret={TURN_SECRET}" in config["content"]
    assert "realm=meeshy.me" in config["content"] and config["permissions"] == "0444"
    assert TURN_SECRET not in repr(coturn.inputs["command"])
    for res in run.resources:
        for prop, value in res.inputs.items():
            if TURN_SECRET in repr(value):
                assert prop in res.secret_props and prop != "labels", (res.name, prop)
    assert TURN_SECRET not in repr(run.exports)


def test_public_agent_is_routed_and_outputs_list_everything(run):
    lab = labels(run.container("agent"))
    assert lab["traefik.http.routers.meeshy-production-agent.rule"] == "Host(`agent.meeshy.me`)"
    assert lab["traefik.http.services.meeshy-production-agent.loadbalancer.server.port"] == "3200"
    names = run.exports["containerNames"]
    assert {names[s] for s in ("agent", "coturn", "certs-dumper")} == {
        "meeshy-production-agent", "meeshy-production-coturn", "meeshy-production-certs-dumper"}
    assert run.exports["volumeNames"]["turn-certs"] == "meeshy-production-turn-certs"


def test_the_policy_pack_accepts_the_graph(run):
    facts = rules.StackFacts("production",
                             declared_mounts=declared_mounts(
                                 parse_stack("production", stack_file_config("production"))))
    for res in run.resources:
        r = rules.Res(res.type, res.name, res.inputs, res.protect)
        assert rules.names_prefixed_by_stack(r, facts) == [], res.name
        assert rules.no_reference_to_other_stacks(r, facts) == [], res.name
        assert rules.images_pinned_in_production(r, facts) == [], res.name


def test_without_acme_no_router_asks_a_ca_and_traefik_has_no_resolver():
    """A stack no CA can reach (a rehearsal's): routers still serve TLS, on Traefik's default
    certificate, and nothing in Traefik's command would make it call a CA."""
    plain = run_stack_file("staging", {"meeshy:acme": {"enabled": False}})
    routed = 0
    for container in plain.of_type(":Container"):
        lab = labels(container)
        assert not [k for k in lab if k.endswith(".tls.certresolver")], container.name
        for key in (k for k in lab if k.endswith(".rule")):
            assert lab[key.removesuffix(".rule") + ".tls"] == "true"
            routed += 1
        assert not [a for a in container.inputs.get("command") or [] if "certificatesresolvers" in a]
    assert routed >= 6          # gateway, translator, web, static, dashboard, admin UIs

