"""The real program (`__main__.py`) on the real stack files declares the release steps inside
the Docker platform: backup after the database, migration and health gate in the tools image on
the stack's network, gate after the application services; `release` exported for ops/."""
from __future__ import annotations

import shlex

import pytest

from testing.describe import describe
from testing.mock_pulumi import EXAMPLE_SECRETS, run_stack_file

STACKS = ("staging", "production")
STEP_TYPES = {"meeshy:backup:MongoBackup", "meeshy:migration:DataMigration",
              "meeshy:health:HealthGate"}


@pytest.fixture(scope="module")
def runs():
    return {stack: run_stack_file(stack) for stack in STACKS}


def one(run, name):
    found = [r for r in run.resources if r.name == name]
    assert len(found) == 1, f"{len(found)} resources named {name}"
    return found[0]


@pytest.mark.parametrize("stack", STACKS)
def test_release_is_declared_under_the_platform_and_exported(runs, stack):
    run = runs[stack]
    release = one(run, f"meeshy-{stack}-release")
    assert release.type == "meeshy:release:Release"
    platform = [r for r in run.resources if r.type == "meeshy:platform:MeeshyPlatform"]
    assert release.parent == platform[0].urn
    summary = run.exports["release"]
    assert set(summary) == {"release", "databaseName", "maintenance", "backup", "migration", "health"}
    assert summary["release"] == run.exports["releaseLabel"]
    assert summary["databaseName"] == "meeshy"
    assert summary["backup"]["backupId"] and summary["migration"]["report"]


@pytest.mark.parametrize("stack", STACKS)
def test_each_step_is_parented_to_its_component(runs, stack):
    run = runs[stack]
    prefix = f"meeshy-{stack}-release"
    release = one(run, prefix)
    steps = {r.type: r for r in run.resources if r.parent == release.urn}
    assert set(steps) == STEP_TYPES
    for component, command in (("backup", "dump"), ("migration", "run"), ("gate", "check")):
        assert one(run, f"{prefix}-{component}-{command}").parent == one(run, f"{prefix}-{component}").urn


@pytest.mark.parametrize("stack", STACKS)
def test_backup_waits_for_the_database_and_the_gate_for_the_services(runs, stack):
    run = runs[stack]
    prefix = f"meeshy-{stack}"
    dump = one(run, f"{prefix}-release-backup-dump")
    assert one(run, f"{prefix}-rs-init").urn in dump.dependencies
    assert not any(run.container(s).urn in dump.dependencies for s in ("gateway", "web"))
    migration = one(run, f"{prefix}-release-migration-run")
    assert dump.urn in migration.dependencies
    gate = one(run, f"{prefix}-release-gate-check")
    for service in ("translator", "gateway", "web", "static"):
        assert run.container(service).urn in gate.dependencies
    assert {dump.urn, migration.urn} <= set(gate.dependencies)


@pytest.mark.parametrize("stack", STACKS)
def test_gate_probes_every_service_and_the_database_inside_the_network(runs, stack):
    gate = shlex.split(one(runs[stack], f"meeshy-{stack}-release-gate-check").inputs["create"])
    probes = [gate[i + 1] for i, arg in enumerate(gate) if arg == "--http"]
    # Each at the container's own Docker name, not the alias the old container shares until
    # the update ends.
    name = {s: runs[stack].container(s).inputs["name"] for s in ("gateway", "static", "translator", "web")}
    assert probes == [f"gateway=http://{name['gateway']}:3000/health",
                      f"static=http://{name['static']}:80/health",
                      f"translator=http://{name['translator']}:8000/live",
                      f"web=http://{name['web']}:3100/api/health"]
    assert all(n != f"meeshy-{stack}-{s}" for s, n in name.items())
    assert gate[-2:] == ["--mongo-env", "MEESHY_HEALTH_MONGO_URI"]
    assert gate[3:8] == ["run", "--rm", "--network", f"meeshy-{stack}", "--env"]


def test_production_migration_stays_inside_the_network(runs):
    run = runs["production"]
    database = run.container("database")
    assert not database.inputs.get("ports")
    assert "database" not in run.exports["publishedPorts"]
    argv = shlex.split(one(run, "meeshy-production-release-migration-run").inputs["create"])
    assert argv[3:7] == ["run", "--rm", "--network", "meeshy-production"]
    assert argv[argv.index("--") + 1:][:2] == ["sh", "-c"]
    assert not {"-p", "--publish", "--network=host"} & set(argv)
    env = one(run, "meeshy-production-release-migration-run").inputs["environment"]
    assert env["MEESHY_MIGRATION_TARGET_URI"] == (
        "mongodb://meeshy-production-database:27017/meeshy_v2?replicaSet=rs0")


@pytest.mark.parametrize("stack", STACKS)
def test_no_secret_reaches_the_release_in_plain_text(runs, stack):
    run = runs[stack]
    steps = [r for r in run.resources if r.name.startswith(f"meeshy-{stack}-release")]
    assert len(steps) == 7      # the Release, its three steps and their three commands
    text = repr([r.inputs for r in steps]) + repr(run.exports["release"])
    assert "--mongo-env" in text and "MEESHY_MIGRATION_TARGET_URI" in text
    assert not [key for key, secret in EXAMPLE_SECRETS.items() if secret in text]


def test_changing_the_release_label_reruns_only_the_release_steps():
    before = describe(run_stack_file("production"))
    after = describe(run_stack_file("production", {"meeshy:release": "1.0.1"}))
    changed = {line.split(" | ")[0] for line in set(before) ^ set(after)}
    assert changed == {"Command meeshy-production-release-backup-dump",
                       "Command meeshy-production-release-gate-check"}
    assert not [line for line in set(before) ^ set(after) if " | triggers" not in line
                and "--label" not in line]


def test_no_release_section_declares_no_release():
    run = run_stack_file("production", {"meeshy:tools": None, "meeshy:migration": None})
    assert "release" not in run.exports
    assert not [r for r in run.resources if r.type in STEP_TYPES | {"meeshy:release:Release"}]


@pytest.mark.parametrize("image, why", [
    ("isopen/meeshy-infra-tools:latest", "meeshy:tools.image: expected an image pinned"),
    ("isopen/meeshy-infra-tools", "meeshy:tools.image: expected an image pinned"),
    (None, "meeshy:tools.image is required in Docker mode"),
])
def test_tools_image_is_required_and_pinned(image, why):
    with pytest.raises(Exception, match=why):
        run_stack_file("production", {"meeshy:tools": {"image": image} if image else None})
