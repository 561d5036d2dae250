"""The Release component under Pulumi's mocks: what it declares, with which commands, triggers
and dependencies, on both command providers; outputs parsed from the helpers' JSON."""
from __future__ import annotations

import json
import shlex

import pulumi
import pytest

from config.release_settings import load_release_settings

BASE = {
    "meeshy:release": "2026.02.0",
    "meeshy:database": {"name": "meeshy"},
    "meeshy:backupDir": "/var/backups/meeshy/production",
    "meeshy:externalDatabase": {"uri": "mongodb://127.0.0.1:27017"},
    "meeshy:migration": {"sourceDatabase": "meeshy", "targetDatabase": "meeshy_v2", "pass": "sw-full"},
    "meeshy:healthGate": {"deadlineSeconds": 30, "endpoints": {"gateway": "http://127.0.0.1:9/health"}},
}
MANIFEST = {"backupId": "production/meeshy/x", "archive": "/a.archive.gz", "sha256": "f" * 64,
            "sizeBytes": 10, "database": "meeshy", "collections": {"User": {"count": 2, "hash": "h"}},
            "documents": 2}
MIGRATION = {"exitCode": 0, "report": "/r.json", "durationSeconds": 1.0,
             "summary": {"ok": True, "totals": {"documents": 2}}}
GATE = {"healthy": True, "services": {"gateway": {"healthy": True}}, "elapsedSeconds": 0.1}


class Mocks(pulumi.runtime.Mocks):
    def __init__(self):
        self.resources = []

    def new_resource(self, args):
        self.resources.append(args)
        stdout = ""
        if args.name.endswith("-dump"):
            stdout = "progress line\n" + json.dumps(MANIFEST)
        elif args.name.endswith("-run"):
            stdout = json.dumps(MIGRATION)
        elif args.name.endswith("-check"):
            stdout = json.dumps(GATE)
        return f"{args.name}-id", {**args.inputs, "stdout": stdout, "stderr": ""}

    def call(self, args):
        return {}


def declare(values):
    mocks = Mocks()
    pulumi.runtime.set_mocks(mocks, project="meeshy", stack="production", preview=False)
    from components.release.release import Release, external_server
    settings = load_release_settings("production", values)
    release = Release("meeshy-production", settings, external_server(settings),
                      endpoints=dict(settings.health.endpoints))
    return mocks, release


def by_name(mocks):
    return {r.name: r for r in mocks.resources}


@pulumi.runtime.test
def test_release_declares_backup_then_migration_then_gate():
    mocks, release = declare(BASE)

    def check(summary):
        resources = by_name(mocks)
        assert {r.typ for r in mocks.resources} >= {
            "meeshy:release:Release", "meeshy:backup:MongoBackup",
            "meeshy:migration:DataMigration", "meeshy:health:HealthGate", "command:local:Command"}
        dump, run, gate = (resources[f"meeshy-production-{n}"] for n in
                           ("backup-dump", "migration-run", "gate-check"))
        assert shlex.split(dump.inputs["create"]) == [
            "python", "-m", "steps.backup_run", "--dir", "/var/backups/meeshy/production",
            "--stack", "production", "--database", "meeshy", "--label", "sw-full", "--retain", "10",
            "--timeout", "300", "--", "mongodump", "--uri=mongodb://127.0.0.1:27017", "--db=meeshy",
            "--archive", "--gzip"]
        assert dump.inputs["triggers"] == ["2026.02.0", "", ""]   # no migration pass
        assert dump.inputs["update"] == 'printf "%s" "$PULUMI_COMMAND_STDOUT"'
        assert run.inputs["triggers"] == ["meeshy", "meeshy_v2", "", "sw-full",
                                          "notifications=drop", "read-statuses=migrate"]
        assert "127.0.0.1" not in run.inputs["create"]       # URIs travel in the environment
        assert shlex.split(gate.inputs["create"])[-2:] == ["--mongo-env", "MEESHY_HEALTH_MONGO_URI"]
        assert gate.inputs["triggers"] == ["2026.02.0", "meeshy", "gateway=http://127.0.0.1:9/health"]
        assert summary["backup"]["backupId"] == "production/meeshy/x"
        assert summary["migration"] == {"summary": MIGRATION["summary"], "report": "/r.json"}
        assert summary["health"] == GATE["services"] and summary["databaseName"] == "meeshy"
    return release.summary.apply(check)


@pulumi.runtime.test
def test_database_uris_are_secret_inputs():
    _, release = declare(BASE)
    return pulumi.Output.all(release.migration.run.environment.is_secret(),
                             release.gate.check.environment.is_secret()).apply(
        lambda secret: secret == [True, True] or pytest.fail(f"not secret: {secret}"))


@pulumi.runtime.test
def test_no_migration_once_the_services_use_its_target():
    values = {**BASE, "meeshy:database": {"name": "meeshy_v2"}}
    mocks, release = declare(values)
    assert release.migration is None

    def check(summary):
        names = {r.name for r in mocks.resources}
        assert "meeshy-production-migration-run" not in names
        assert summary["migration"] is None
        dump = by_name(mocks)["meeshy-production-backup-dump"]
        assert "--db=meeshy_v2" in shlex.split(dump.inputs["create"])
    return release.summary.apply(check)


@pulumi.runtime.test
def test_platform_release_runs_everything_inside_the_stack_network():
    """In Docker mode: backup, migration and gate in the tools image on the stack's network (on
    the stack's engine), probing each service's health endpoint by container name."""
    from pathlib import Path

    import yaml

    from components.release.release import platform_gate, platform_release
    from config.settings import load_settings
    from testing.mock_pulumi import EXAMPLE_SECRETS

    mocks = Mocks()
    pulumi.runtime.set_mocks(mocks, project="meeshy", stack="production", preview=False)
    stack_file = Path(__file__).resolve().parents[3] / "Pulumi.production.yaml"
    values = {**yaml.safe_load(stack_file.read_text())["config"], **EXAMPLE_SECRETS}
    platform = load_settings("production", values)
    release = load_release_settings("production", {
        **values, "meeshy:tools": {"image": "meeshy-tools:1.0.0"},
        "meeshy:migration": {"sourceDatabase": "meeshy", "targetDatabase": "meeshy_v2"}})
    declared = platform_release("meeshy-production", platform, release)
    platform_gate(declared, [], {})

    def check(_):
        resources = by_name(mocks)
        dump = shlex.split(resources["meeshy-production-backup-dump"].inputs["create"])
        engine = ["docker", "--host", "unix:///var/run/docker.sock"]
        assert dump[:7] == [*engine, "run", "--rm", "--network", "meeshy-production"]
        assert dump[dump.index("--") + 1:] == [
            "mongodump", "--uri=mongodb://meeshy-production-database:27017/?replicaSet=rs0",
            "--db=meeshy", "--archive", "--gzip"]
        gate = shlex.split(resources["meeshy-production-gate-check"].inputs["create"])
        assert gate[:11] == [*engine, "run", "--rm", "--network", "meeshy-production", "--env",
                             "MEESHY_HEALTH_MONGO_URI", "meeshy-tools:1.0.0", "python"]
        assert "gateway=http://meeshy-production-gateway:3000/health" in gate
        assert "web=http://meeshy-production-web:3100/api/health" in gate
        run = shlex.split(resources["meeshy-production-migration-run"].inputs["create"])
        inner = run[run.index("--") + 1:]
        assert run[:7] == [*engine, "run", "--rm", "--network", "meeshy-production"]
        triggers = resources["meeshy-production-gate-check"].inputs["triggers"]
        assert "gateway=isopen/meeshy-gateway:1.0.0" in triggers
        # Production's stack file states the operators' decisions; the migration is told them.
        assert inner[-1].endswith("--decision notifications=drop --decision read-statuses=migrate")
    return declared.summary.apply(check)


@pulumi.runtime.test
def test_the_alternative_decision_reaches_the_migration_and_is_a_new_run():
    values = {**BASE, "meeshy:migration": {**BASE["meeshy:migration"],
                                           "decisions": {"notifications": "migrate"}}}
    mocks, release = declare(values)

    def check(_):
        run = by_name(mocks)["meeshy-production-migration-run"]
        script = shlex.split(run.inputs["create"])[-1]
        assert script.endswith("--decision notifications=migrate --decision read-statuses=migrate")
        assert run.inputs["triggers"][-2:] == ["notifications=migrate", "read-statuses=migrate"]
    return release.summary.apply(check)
