"""The release step that validates the data against the schema inside the gateway image about
to start: its command lines (list for list), and where the real program declares it, under
mocks: only while the services use the migration's target, before the application containers,
which depend on it (under maintenance: beside them, before the gate)."""
from __future__ import annotations

import shlex

import pytest
import yaml

from commands import steps as rc
from components.release.data_migration import report_path
from components.release.schema_check import check_paths
from config.locations import REPO_ROOT
from config.release_settings import MigrationSettings
from testing.mock_pulumi import run_stack_file

DOCKER = rc.DockerServer(container="meeshy-production-database", network="meeshy-production",
                         tools_image="meeshy-tools:1.0.0",
                         member_uri="mongodb://meeshy-production-database:27017",
                         uri_options="replicaSet=rs0", docker_host="ssh://ops@prod")
SCHEMA = "/var/backups/meeshy/production/schema-checks/isopen_meeshy-gateway_1.1.0.prisma"
REPORT = "/var/backups/meeshy/production/schema-checks/meeshy_v2-isopen_meeshy-gateway_1.1.0.json"


def test_paths_are_named_after_the_image_and_the_database():
    assert check_paths("/var/backups/meeshy", "production", "isopen/meeshy-gateway:1.1.0",
                       "meeshy_v2") == (SCHEMA, REPORT)


def test_the_schema_is_copied_out_of_the_image_on_the_stacks_docker_host():
    assert rc.schema_copy_command("isopen/meeshy-gateway:1.1.0", SCHEMA,
                                  path_in_image="/app/packages/shared/prisma/schema.prisma",
                                  docker_host="ssh://ops@prod") == [
        "python", "-m", "steps.image_schema", "--image", "isopen/meeshy-gateway:1.1.0",
        "--path", "/app/packages/shared/prisma/schema.prisma", "--out", SCHEMA,
        "--docker-host", "ssh://ops@prod"]
    assert rc.schema_copy_command("g:1", "/s/x.prisma", path_in_image="/p") == [
        "python", "-m", "steps.image_schema", "--image", "g:1", "--path", "/p", "--out", "/s/x.prisma"]


def test_the_validation_runs_in_the_tools_image_on_the_stack_network():
    folder = "/var/backups/meeshy/production/schema-checks"
    inner = rc.schema_validate_script(schema_file=SCHEMA, report_path=REPORT)
    assert inner == ["sh", "-c",
                     'exec python -m migration validate --target "$MEESHY_MIGRATION_TARGET_URI" '
                     f"--schema {SCHEMA} --json {REPORT}"]
    assert rc.migration_step_command(DOCKER, inner, report_path=REPORT, timeout_seconds=60,
                                     env=("MEESHY_MIGRATION_TARGET_URI",), files=(SCHEMA,)) == [
        "docker", "--host", "ssh://ops@prod", "run", "--rm", "--network", "meeshy-production",
        "--env", "MEESHY_MIGRATION_TARGET_URI", "--volume", f"{folder}:{folder}",
        "meeshy-tools:1.0.0", "python", "-m", "steps.migration_step", "--report", REPORT,
        "--timeout", "60", "--", *inner]


def test_the_validation_of_an_external_server_reads_its_uri_from_the_environment():
    assert rc.schema_validate_script(schema_file="/s/a b.prisma", report_path="/r/x.json") == [
        "sh", "-c", 'exec python -m migration validate --target "$MEESHY_MIGRATION_TARGET_URI" '
                    "--schema '/s/a b.prisma' --json /r/x.json"]


@pytest.fixture(scope="module")
def switched():
    """Production's stack file with the services on the migration's target (the switch's
    release phase)."""
    return run_stack_file("production", {"meeshy:database": {"name": "meeshy_v2"}})


def one(run, name):
    found = [r for r in run.resources if r.name == name]
    assert len(found) == 1, f"{len(found)} resources named {name}"
    return found[0]


def test_declared_before_the_application_containers_which_depend_on_it(switched):
    prefix = "meeshy-production-release-schema-check"
    validate, copy = one(switched, f"{prefix}-validate"), one(switched, f"{prefix}-copy")
    assert copy.urn in validate.dependencies
    for service in ("translator", "gateway", "web"):
        assert validate.urn in switched.container(service).dependencies, service
    assert one(switched, "meeshy-production-rs-init").urn in copy.dependencies
    assert not any(switched.container(s).urn in validate.dependencies
                   for s in ("translator", "gateway", "web"))


def test_under_maintenance_the_containers_start_beside_it_and_the_gate_waits_for_both():
    """A switch's release: nothing reaches a new container before the page's route goes, so
    the check no longer holds the containers back; the gate (and so every handover) waits for
    the check and the containers alike."""
    run = run_stack_file("production", {"meeshy:database": {"name": "meeshy_v2"},
                                        "meeshy:maintenance": True})
    prefix = "meeshy-production-release-schema-check"
    checks = {one(run, f"{prefix}-validate").urn, one(run, f"{prefix}-prisma").urn}
    gate = one(run, "meeshy-production-release-gate-check")
    assert checks <= set(gate.dependencies)
    for service in ("translator", "gateway", "web"):
        assert not checks & set(run.container(service).dependencies), service
        assert run.container(service).urn in gate.dependencies, service
        assert gate.urn in one(run, f"meeshy-production-{service}-handover").dependencies, service


def test_it_checks_the_live_database_against_the_gateway_image_and_keeps_the_uri_secret(switched):
    prefix = "meeshy-production-release-schema-check"
    copy = shlex.split(one(switched, f"{prefix}-copy").inputs["create"])
    assert copy[copy.index("--image") + 1] == "isopen/meeshy-gateway:1.0.0"
    assert copy[copy.index("--path") + 1] == "/app/packages/shared/prisma/schema.prisma"
    validate = one(switched, f"{prefix}-validate")
    assert validate.inputs["triggers"] == ["isopen/meeshy-gateway:1.0.0",
                                           "/app/packages/shared/prisma/schema.prisma", "meeshy_v2"]
    assert "environment" in validate.secret_props
    assert "mongodb://" not in validate.inputs["create"]
    assert switched.exports["schemaCheck"]["database"] == "meeshy_v2"


def test_not_declared_while_the_services_use_the_legacy_database():
    run = run_stack_file("production")
    assert not [r for r in run.resources if "schema-check" in r.name]
    assert "schemaCheck" not in run.exports


def test_the_prisma_read_runs_the_images_own_client_on_the_stack_network():
    assert rc.prisma_read_command(DOCKER, "isopen/meeshy-gateway:1.1.0", deadline_seconds=600) == [
        "python", "-m", "steps.prisma_read", "--image", "isopen/meeshy-gateway:1.1.0",
        "--network", "meeshy-production", "--deadline", "600", "--docker-host", "ssh://ops@prod"]
    ext = rc.ExternalServer("mongodb://127.0.0.1:27017")
    assert rc.prisma_read_command(ext, "g:1", deadline_seconds=30.5, client_path="/c",
                                  models=("User", "Message")) == [
        "python", "-m", "steps.prisma_read", "--image", "g:1", "--network", "host",
        "--deadline", "30.5", "--client-path", "/c", "--models", "User,Message"]


def test_the_prisma_read_gates_the_containers_beside_the_validation(switched):
    prefix = "meeshy-production-release-schema-check"
    prisma = one(switched, f"{prefix}-prisma")
    argv = shlex.split(prisma.inputs["create"])
    assert argv[argv.index("--image") + 1] == "isopen/meeshy-gateway:1.0.0"
    assert "environment" in prisma.secret_props and "mongodb://" not in prisma.inputs["create"]
    assert prisma.inputs["triggers"] == one(switched, f"{prefix}-validate").inputs["triggers"]
    for service in ("translator", "gateway", "web"):
        assert prisma.urn in switched.container(service).dependencies, service


def test_after_a_delta_pass_the_prisma_read_reads_only_what_it_wrote(switched):
    """The switch's release phase (a pass that is not the live pre-copy) reads the delta's ids;
    a first deploy, or the live pre-copy, reads the whole database."""
    section = yaml.safe_load((REPO_ROOT / "Pulumi.production.yaml").read_text())["config"]["meeshy:migration"]
    prefix = "meeshy-production-release-schema-check"

    def prisma_argv(pass_id, live):
        run = run_stack_file("production", {
            "meeshy:database": {"name": "meeshy_v2"},
            "meeshy:migration": {**section, "pass": pass_id, "liveSource": live}})
        return shlex.split(one(run, f"{prefix}-prisma").inputs["create"])
    delta = prisma_argv("op7-delta", False)
    backup_dir = delta[delta.index("--written") + 1].split("/production/")[0]
    assert delta[delta.index("--written") + 1] == report_path(backup_dir, "production", MigrationSettings(
        source_database="meeshy", target_database="meeshy_v2", pass_id="op7-delta"))
    assert delta[delta.index("--written") + 1].endswith("meeshy-to-meeshy_v2-op7-delta.json")
    assert "--written" not in prisma_argv("op7-full", True)
    assert "--written" not in shlex.split(one(switched, f"{prefix}-prisma").inputs["create"])


def test_on_an_ssh_engine_the_copy_is_written_where_the_validation_reads_it():
    script = rc.schema_copy_script(DOCKER, "isopen/meeshy-gateway:1.1.0", SCHEMA, path_in_image="/p")
    folder = SCHEMA.rsplit("/", 1)[0]
    assert script == (
        'tmp=$(mktemp) && python -m steps.image_schema --image isopen/meeshy-gateway:1.1.0 '
        '--path /p --out "$tmp" --docker-host ssh://ops@prod && docker --host ssh://ops@prod run '
        f"--rm --interactive --volume {folder}:{folder} meeshy-tools:1.0.0 sh -c 'cat > \"$1\"' "
        f'sh {SCHEMA} < "$tmp"; status=$?; rm -f "$tmp"; exit $status')
