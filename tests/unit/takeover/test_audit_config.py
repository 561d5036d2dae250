"""The takeover shows what changes: an audited compose container's whole configuration beside
what the stack deploys for the same service, and a refusal when a variable or mount would
disappear unless the operator lists it as intended. The compose container is the masked,
production-shaped gateway inspect the audit tests use."""
import json
from pathlib import Path

import pytest
import yaml

from components.platform.containers import ContainerSpec, Publish
from config import naming
from config.naming import StackNames
from ops.switch.takeover import check_takeover_changes
from takeover.audit import config_diff as audit_config
from takeover.compose.record import TakeoverError
from takeover.mask import mask_container, mask_image
from testing.mock_pulumi import run_stack_file, stack_file_config

FIXTURE = json.loads(Path(__file__).with_name("test_audit_gateway_inspect.json").read_text())


def declared_by_the_program(stack: str, extra: dict | None = None) -> dict[str, dict]:
    """The containers the program itself declares (run under mocks), in the takeover's shape."""
    run = run_stack_file(stack, extra)
    prefix = f"meeshy-{stack}-"
    return {naming.fixed_container_name(r.inputs["name"])[len(prefix):]: _shape(r.inputs)
            for r in run.of_type(":Container") if r.inputs["name"].startswith(prefix)}


def _shape(inputs: dict) -> dict:
    files = [u["file"] for u in inputs.get("uploads") or []]
    return {"env": sorted(e.split("=", 1)[0] for e in inputs.get("envs") or []),
            "mounts": sorted([m["containerPath"] for m in inputs.get("volumes") or []] + files),
            # The program's numbers reach us as floats (protobuf): 27017.0 would never match.
            "ports": sorted(f"{int(p['internal'])}/{p.get('protocol') or 'tcp'}"
                            for p in inputs.get("ports") or []),
            "labels": sorted(label["label"] for label in inputs.get("labels") or []),
            "health": list((inputs.get("healthcheck") or {}).get("tests") or []),
            "restart": inputs.get("restart") or "no"}


@pytest.fixture(scope="module")
def expected():
    return audit_config.expected_stack("production")


@pytest.fixture
def audit_dir(tmp_path):
    (tmp_path / "containers.json").write_text(json.dumps([mask_container(FIXTURE["container"])]))
    (tmp_path / "images.json").write_text(json.dumps({"gateway": mask_image(FIXTURE["image"])}))
    return tmp_path


def test_whole_configuration_is_compared_by_name(audit_dir, expected):
    gateway = audit_config.differences(audit_dir, expected)["gateway"]
    removed = set(gateway["env"]["removed"])
    assert {"ATABETH_USERNAME", "JWT_EXPIRES_IN"} <= removed
    # The image's own variables are not compose's; production's stack file sets the Firebase path.
    assert not {"PATH", "LANG", "MEESHY_STANDIN_ROLE", "FIREBASE_ADMIN_CREDENTIALS_PATH"} & removed
    assert "MAX_TRANSLATION_LENGTH" in gateway["env"]["added"]
    assert gateway["mounts"] == {"removed": ["/app/secrets"],
                                 "added": ["/app/secrets/firebase-admin-sdk.json", "/app/sounds"]}
    assert gateway["health"][0] == ["CMD-SHELL", "curl -f http://localhost:3000/health"]
    assert "restart" not in gateway                          # unless-stopped on both sides
    assert "traefik.http.routers.gateway.rule" in gateway["labels"]["removed"]
    assert "3000/tcp" in gateway["ports"]["removed"]         # compose published it on the host
    assert not any("Adm1n" in line or "<masked>" in line for line in audit_config.render(
        {"gateway": gateway}))


def test_switch_refuses_until_each_disappearance_is_set_or_intended(audit_dir, expected):
    logged = []
    with pytest.raises(TakeoverError) as err:
        check_takeover_changes(audit_dir, "production", describe=lambda s: expected, log=logged.append)
    message = str(err.value)
    assert "gateway: variable JWT_EXPIRES_IN would disappear" in message
    assert "gateway: mount /app/secrets would disappear" in message
    assert any(line.startswith("takeover changes: gateway: env removed:") for line in logged)
    found = audit_config.differences(audit_dir, expected)
    names = [f"gateway:{n}" for n in found["gateway"]["env"]["removed"]]
    (audit_dir / "intended.txt").write_text("# dropped on purpose\n" + "\n".join(names) + "\n")
    with pytest.raises(TakeoverError, match="mount /app/secrets") as err:
        check_takeover_changes(audit_dir, "production", describe=lambda s: expected, log=logged.append)
    assert ": variable " not in str(err.value)
    (audit_dir / "intended.txt").write_text("\n".join([*names, "gateway:/app/secrets"]) + "\n")
    report = check_takeover_changes(audit_dir, "production", describe=lambda s: expected,
                                    log=logged.append)
    assert report["result"] == "checked" and "gateway" in report["differences"]


def test_a_required_service_the_stack_lacks_is_refused(audit_dir):
    found = audit_config.differences(audit_dir, {})
    assert audit_config.disappearing(found, set()) == [
        "gateway: the stack declares no container for this service"]
    assert audit_config.disappearing(found, {"gateway"}) == []


def test_the_stack_side_is_what_the_program_declares(expected):
    # Learnt from the settings model and the service declarations (no program, no mocks in the
    # switch's process), and the same as what the program declares.
    assert expected == declared_by_the_program("production")


def test_the_stack_side_follows_every_optional_service(tmp_path):
    images = {**stack_file_config("staging")["meeshy:images"], "agent": "a/agent:1.0",
              "coturn": "c/coturn:1.0", "certsDumper": "d/dumper:1.0",
              "metricsExporter": "m/exporter:1.0"}
    extra = {"meeshy:adminUis": True, "meeshy:images": images,
             "meeshy:services": {"agent": {"enabled": True, "public": True},
                                 "metrics-exporter": {"enabled": True},
                                 "coturn": {"enabled": True, "authSecret": "turn",
                                            "healthcheck": ["turnutils_stunclient", "127.0.0.1"]}}}
    (tmp_path / "Pulumi.staging.yaml").write_text(yaml.safe_dump(
        {"config": {**stack_file_config("staging"), **extra}}))
    stack_side = audit_config.expected_stack("staging", tmp_path)
    assert stack_side == declared_by_the_program("staging", extra)
    assert {"agent", "coturn", "certs-dumper", "mongo-ui", "metrics-exporter"} <= set(stack_side)


def test_stack_ports_compare_as_integers_whatever_number_type_the_program_sends():
    program = _shape({"ports": [{"internal": 27017.0, "external": 27018.0}]})["ports"]
    names = StackNames("staging", "meeshy.me")
    ours = audit_config.stack_side(ContainerSpec("database", "mongo:8.0.4",
                                                 ports=[Publish(27017, 27018)]), names)["ports"]
    assert program == ours == ["27017/tcp"]
