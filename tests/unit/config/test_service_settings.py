"""meeshy:services under Pulumi mocks: each per-service setting reaches its container, secret
values stay secret everywhere the engine or an operator could see them, and every mistake is
named by its full key path."""
import base64
import secrets

import pytest

from config import service_settings, services
from config.settings import SettingsError, load_settings
from testing.mock_pulumi import EXAMPLE_SECRETS, run_stack_file, stack_file_config

SECRETS = {"brevo": "brevo-key-value-4242", "apns": "-----BEGIN PRIVATE KEY-----apns-4242",
           "llm": "llm-token-value-4242"}
SERVICES = {
    "gateway": {"env": {"EMAIL_PROVIDER": "brevo", "SESSION_TTL_DAYS": 30, "ENABLE_APNS_PUSH": True,
                        "MAX_TRANSLATION_LENGTH": "5000"},
                "secretEnv": {"BREVO_API_KEY": "brevo"},
                "secretFiles": [{"path": "/app/secrets/apns_key.p8", "secret": "apns",
                                 "env": "APNS_KEY_PATH"},
                                {"path": "/app/secrets/firebase.json", "hostPath": "/srv/fb.json",
                                 "env": "FIREBASE_ADMIN_CREDENTIALS_PATH"}],
                "volumes": [{"path": "/app/extra", "volume": "compose_extra", "readOnly": True}]},
    "agent": {"enabled": True, "secretEnv": {"LLM_TOKEN": "llm"}},
}


@pytest.fixture(scope="module")
def run():
    extra = {"meeshy:services": SERVICES,
             "meeshy:images": {**stack_file_config("staging")["meeshy:images"],
                               "agent": "meeshy-local/standin:1.0.0"}}
    return run_stack_file("staging", extra, secrets={**EXAMPLE_SECRETS,
                                                     "meeshy:serviceSecrets": SECRETS})


def env(res):
    return dict(e.split("=", 1) for e in res.inputs.get("envs") or [])


def mounts(res):
    return {m["containerPath"]: (m.get("volumeName") or m.get("hostPath"), m.get("readOnly", False))
            for m in res.inputs.get("volumes") or []}


def uploads(res):
    return {u["file"]: u for u in res.inputs.get("uploads") or []}


def test_plain_and_secret_env_and_file_paths_reach_the_gateway(run):
    gw = env(run.container("gateway"))
    assert gw["EMAIL_PROVIDER"] == "brevo" and gw["SESSION_TTL_DAYS"] == "30"
    assert gw["ENABLE_APNS_PUSH"] == "true"
    assert gw["MAX_TRANSLATION_LENGTH"] == "5000"            # a default the operator overrode
    assert gw["BREVO_API_KEY"] == SECRETS["brevo"]
    assert gw["APNS_KEY_PATH"] == "/app/secrets/apns_key.p8"
    assert gw["FIREBASE_ADMIN_CREDENTIALS_PATH"] == "/app/secrets/firebase.json"
    assert gw["AGENT_HOST"] == "meeshy-staging-agent"        # the agent is enabled


def test_secret_files_are_read_only_and_volumes_mounted(run):
    gateway = run.container("gateway")
    m = mounts(gateway)
    assert m["/app/secrets/firebase.json"] == ("/srv/fb.json", True)
    assert m["/app/extra"] == ("compose_extra", True)
    assert m["/app/uploads"] == ("meeshy-staging-gateway-uploads", False)   # the platform's stay
    apns = uploads(gateway)["/app/secrets/apns_key.p8"]
    assert apns["content"] == SECRETS["apns"] and apns["permissions"] == "0444"


def test_secret_values_never_in_plain_text(run):
    values = set(SECRETS.values())
    for res in run.resources:
        for prop, value in res.inputs.items():
            if any(s in repr(value) for s in values):
                assert prop in res.secret_props, f"{res.name}.{prop} holds a secret in plain text"
                assert prop != "labels", res.name                   # docker inspect shows labels
    carriers = {(r.name, p) for r in run.resources for p, v in r.inputs.items()
                if any(s in repr(v) for s in values)}
    assert carriers == {("meeshy-staging-gateway", "envs"), ("meeshy-staging-gateway", "uploads"),
                        ("meeshy-staging-agent", "envs")}
    assert not any(s in repr(run.exports) for s in values)


def test_agent_is_internal_health_checked_and_wired(run):
    agent = run.container("agent")
    assert agent.inputs["healthcheck"]["tests"][-1] == "http://localhost:3200/health"
    labels = {label["label"]: label["value"] for label in agent.inputs["labels"]}
    assert labels["traefik.enable"] == "false"                 # not public unless asked
    e = env(agent)
    assert e["PORT"] == "3200" and e["DATABASE_URL"] == env(run.container("gateway"))["DATABASE_URL"]
    assert run.exports["containerNames"]["agent"] == "meeshy-staging-agent"


def test_platform_env_names_are_exactly_what_the_wiring_sets():
    """The names an operator may not override are the wiring's own, no more, no fewer."""
    s = load_settings("staging", {**stack_file_config("staging"), **EXAMPLE_SECRETS,
                                  "meeshy:services": {"agent": {"enabled": True}},
                                  "meeshy:images": {**stack_file_config("staging")["meeshy:images"],
                                                    "agent": "meeshy-local/standin:1.0.0"}})
    built = {spec.name: spec.env(s) for spec in services.SPECS if spec.env}
    for service, names in service_settings.PLATFORM_ENV.items():
        assert set(built[service]) == names, service
        assert not names & set(service_settings.DEFAULT_ENV.get(service, {})), service


def problems_of(services=None, secrets=None, **more):
    values = {**stack_file_config("staging"), **EXAMPLE_SECRETS, **more}
    if services is not None:
        values["meeshy:services"] = services
    if secrets is not None:
        values["meeshy:serviceSecrets"] = secrets
    with pytest.raises(SettingsError) as err:
        load_settings("staging", values)
    return err.value.problems


@pytest.mark.parametrize("services, secrets, key", [
    ({"gateway": {"env": {"DATABASE_URL": "mongodb://elsewhere"}}}, None,
     "meeshy:services.gateway.env.DATABASE_URL: DATABASE_URL is set by the platform"),
    ({"gateway": {"env": {"lower": "x"}}}, None, "meeshy:services.gateway.env.lower: expected"),
    ({"gateway": {"env": {"BREVO_API_KEY": "xkeysib-1"}}}, None,
     "meeshy:services.gateway.env.BREVO_API_KEY: looks like a credential (value not shown): set it "
     "with meeshy:services.gateway.secretEnv"),
    ({"web": {"env": {"NEXT_PUBLIC_X": ["a"]}}}, None, "meeshy:services.web.env.NEXT_PUBLIC_X: expected"),
    ({"gateway": {"secretEnv": {"BREVO_API_KEY": "nope"}}}, None,
     "meeshy:services.gateway.secretEnv.BREVO_API_KEY: refers to meeshy:serviceSecrets.nope"),
    ({"gateway": {"secretFiles": [{"path": "relative", "hostPath": "/x"}]}}, None,
     "meeshy:services.gateway.secretFiles[0].path: expected an absolute path"),
    ({"gateway": {"secretFiles": [{"path": "/a"}]}}, None,
     "meeshy:services.gateway.secretFiles[0]: expected exactly one of 'secret'"),
    ({"gateway": {"secretFiles": [{"path": "/a", "hostPath": "/b", "mode": 1}]}}, None,
     "meeshy:services.gateway.secretFiles[0].mode: unknown setting"),
    ({"translator": {"volumes": [{"path": "/m", "hostPath": "/h"}, {"path": "/m", "volume": "v1"}]}},
     None, "meeshy:services.translator.volumes[1].path: /m is already mounted"),
    ({"translator": {"volumes": [{"path": "/m", "volume": "v", "readOnly": "maybe"}]}}, None,
     "meeshy:services.translator.volumes[0].readOnly: expected true or false"),
    ({"gateway": {"secretEnv": {"A": "s"}, "env": {"A": "x"}}}, {"s": "v"},
     "meeshy:services.gateway.secretEnv.A: is also set in meeshy:services.gateway.env"),
    ({"gatewy": {}}, None, "meeshy:services.gatewy: unknown setting"),
    ({}, {"orphan": "v"}, "meeshy:serviceSecrets.orphan: no meeshy:services setting uses"),
    ({"agent": {"enabled": True}}, None, "meeshy:images.agent: missing"),
    ({"coturn": {"enabled": True}}, None, "meeshy:services.coturn.healthcheck: required"),
    ({"coturn": {"enabled": True}}, None, "meeshy:services.coturn.authSecret: required"),
    ({"coturn": {"minPort": 50000, "maxPort": 49000}}, None,
     "meeshy:services.coturn.maxPort: must not be below"),
    ({"gateway": {"secretEnv": {"ENCRYPTION_MASTER_KEY": "k"}}}, {"k": base64.b64encode(b"x" * 16).decode()},
     "meeshy:serviceSecrets.k: expected 32 random bytes in base64"),
    ({"gateway": {"secretEnv": {"ATTACHMENT_MASTER_KEY": "k"}}}, {"k": "not base64 at all!"},
     "meeshy:serviceSecrets.k: expected 32 random bytes in base64"),
    ({"gateway": {"secretEnv": {"TURN_SECRET": "t"}}}, {"t": "x" * 31},
     "meeshy:serviceSecrets.t: expected at least 32 characters"),
])
def test_every_mistake_names_its_key(services, secrets, key):
    found = problems_of(services, secrets)
    assert any(p.startswith(key) for p in found), found


def test_secret_values_stored_in_plain_text_are_refused_and_never_echoed():
    values = {**stack_file_config("staging"), **EXAMPLE_SECRETS,
              "meeshy:services": {"gateway": {"secretEnv": {"BREVO_API_KEY": "brevo"}}},
              "meeshy:serviceSecrets": {"brevo": "plain-text-brevo-4242"}}
    from config.settings import MappingSource
    source = MappingSource(values, secret_keys=set(EXAMPLE_SECRETS))
    with pytest.raises(SettingsError) as err:
        load_settings("staging", source)
    assert any(p.startswith("meeshy:serviceSecrets: is stored in plain text") for p in err.value.problems)
    assert "plain-text-brevo-4242" not in str(err.value)
    ok = load_settings("staging", MappingSource(values, secret_keys={*EXAMPLE_SECRETS,
                                                                      "meeshy:serviceSecrets"}))
    assert "plain-text-brevo-4242" not in repr(ok)


def test_offline_runs_put_placeholders_where_a_stack_file_names_service_secrets():
    """describe, the policy tests and the takeover check run stack files without their secrets:
    each named entry gets a placeholder, shown as [secret]."""
    from testing.describe import describe
    from testing.mock_pulumi import EXAMPLE_SERVICE_SECRET
    services = {"gateway": {"secretEnv": {"BREVO_API_KEY": "brevo"}},
                "coturn": {"authSecret": "turn"}}
    run = run_stack_file("staging", {"meeshy:services": services})
    assert env(run.container("gateway"))["BREVO_API_KEY"] == EXAMPLE_SERVICE_SECRET
    lines = describe(run)
    assert "Container meeshy-staging-gateway | env.BREVO_API_KEY = [secret]" in lines
    assert not any(EXAMPLE_SERVICE_SECRET in line for line in lines)


GATEWAY_KEYS = {"ENCRYPTION_MASTER_KEY": "enc", "ATTACHMENT_MASTER_KEY": "att", "TURN_SECRET": "turn"}


def gateway_keys(enc: str, att: str, turn: str):
    values = {**stack_file_config("staging"), **EXAMPLE_SECRETS,
              "meeshy:services": {"gateway": {"secretEnv": GATEWAY_KEYS}},
              "meeshy:serviceSecrets": {"enc": enc, "att": att, "turn": turn}}
    return load_settings("staging", values)


def test_the_real_gateway_s_keys_pass_in_either_base64_alphabet_and_reach_it_as_secrets():
    """What Meeshy's gateway checks at start (Node's lenient base64: padding optional, '-_' too)."""
    raw = secrets.token_bytes(32)
    enc = base64.b64encode(raw).decode()
    att = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    s = gateway_keys(enc, att, secrets.token_hex(16))
    env = s.services.of("gateway").secret_env
    assert {name: secret.key for name, secret in env.items()} == {
        "ENCRYPTION_MASTER_KEY": "meeshy:serviceSecrets.enc",
        "ATTACHMENT_MASTER_KEY": "meeshy:serviceSecrets.att", "TURN_SECRET": "meeshy:serviceSecrets.turn"}
    assert enc not in repr(s) and att not in repr(s)


def test_a_bad_gateway_key_is_named_by_its_entry_and_never_shown():
    short = base64.b64encode(b"s3cret-but-short").decode()
    with pytest.raises(SettingsError) as err:
        gateway_keys(short, short, "short-turn-secret")
    problems = err.value.problems
    assert any(p.startswith("meeshy:serviceSecrets.enc: expected 32 random bytes") and
               "(given to gateway as ENCRYPTION_MASTER_KEY)" in p for p in problems), problems
    assert any(p.startswith("meeshy:serviceSecrets.turn: expected at least 32") for p in problems)
    assert short not in str(err.value) and "short-turn-secret" not in str(err.value)


def test_only_the_gateway_checks_them_and_offline_reads_check_nothing():
    from config.stack_settings import offline_config, parse_stack
    agent = {"enabled": True, "secretEnv": {"TURN_SECRET": "t"}}
    values = {**stack_file_config("staging"), **EXAMPLE_SECRETS, "meeshy:services": {"agent": agent},
              "meeshy:serviceSecrets": {"t": "short"},
              "meeshy:images": {**stack_file_config("staging")["meeshy:images"],
                                "agent": "meeshy-local/standin:1.0.0"}}
    assert load_settings("staging", values).services.of("agent").secret_env["TURN_SECRET"]
    config = {**stack_file_config("staging"), "meeshy:services": {"gateway": {"secretEnv": GATEWAY_KEYS}}}
    assert not parse_stack("staging", offline_config(config)).problems
