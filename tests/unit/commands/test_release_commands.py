"""Exact argument lists of the release's commands (backup, restore, migration, health gate)."""
from __future__ import annotations

import pytest

from commands import steps as rc

EXT = rc.ExternalServer("mongodb://127.0.0.1:27017")
DOCKER = rc.DockerServer(container="meeshy-production-database", network="meeshy-production",
                         tools_image="meeshy-tools:1.0.0",
                         member_uri="mongodb://meeshy-production-database:27017",
                         uri_options="replicaSet=rs0")


def test_database_uris_name_the_database_and_keep_options():
    assert EXT.database_uri("meeshy") == "mongodb://127.0.0.1:27017/meeshy"
    assert DOCKER.database_uri("meeshy_v2") == \
        "mongodb://meeshy-production-database:27017/meeshy_v2?replicaSet=rs0"


def test_dump_external_streams_one_database_to_stdout():
    assert rc.dump_command(EXT, "meeshy") == [
        "mongodump", "--uri=mongodb://127.0.0.1:27017", "--db=meeshy", "--archive", "--gzip"]


def test_dump_docker_runs_inside_the_database_container():
    assert rc.dump_command(DOCKER, "meeshy") == [
        "docker", "exec", "meeshy-production-database",
        "mongodump", "--db=meeshy", "--archive", "--gzip"]


def test_dump_docker_over_ssh_names_the_engine():
    remote = rc.DockerServer(**{**DOCKER.__dict__, "docker_host": "ssh://ops@host"})
    assert rc.dump_command(remote, "meeshy")[:4] == ["docker", "--host", "ssh://ops@host", "exec"]


def test_restore_same_database_drops_and_limits_to_that_database():
    assert rc.restore_command(EXT, "meeshy", "meeshy") == [
        "mongorestore", "--uri=mongodb://127.0.0.1:27017", "--archive", "--gzip", "--drop",
        "--nsInclude=meeshy.*", "--noIndexRestore"]


def test_restore_into_another_database_renames_namespaces():
    assert rc.restore_command(DOCKER, "meeshy", "meeshy_staging") == [
        "docker", "exec", "--interactive", "meeshy-production-database",
        "mongorestore", "--archive", "--gzip", "--drop",
        "--nsFrom=meeshy.*", "--nsTo=meeshy_staging.*", "--nsInclude=meeshy.*",
        "--noIndexRestore"]


def test_backup_run_wraps_the_dump():
    dump = rc.dump_command(EXT, "meeshy")
    assert rc.backup_run_command(backup_dir="/var/backups/meeshy", stack="production",
                                 database="meeshy", label="2026.02.1", retain=5,
                                 timeout_seconds=300, dump=dump) == [
        "python", "-m", "steps.backup_run", "--dir", "/var/backups/meeshy",
        "--stack", "production", "--database", "meeshy", "--label", "2026.02.1",
        "--retain", "5", "--timeout", "300", "--", *dump]


def test_migration_external_reads_uris_from_the_environment():
    argv = rc.migration_command(EXT, "run", report_path="/b/reports/r.json", to_step="0003-messages")
    assert argv == ["sh", "-c",
                    'exec python -m migration run --source "$MEESHY_MIGRATION_SOURCE_URI" '
                    '--target "$MEESHY_MIGRATION_TARGET_URI" --json /b/reports/r.json '
                    '--to 0003-messages']
    assert "127.0.0.1" not in " ".join(argv)


def test_migration_pre_copy_runs_with_live_source_and_a_plan_never_does():
    run = rc.migration_command(EXT, "run", report_path="/b/r.json", live_source=True)
    plan = rc.migration_command(EXT, "plan", report_path="/b/r.json", live_source=True)
    assert run[-1].endswith("--json /b/r.json --live-source")
    assert "--live-source" not in plan[-1]


def test_migration_docker_runs_on_the_stack_network_and_publishes_no_port():
    argv = rc.migration_command(DOCKER, "plan", report_path="/b/reports/plan.json")
    assert argv == [
        "docker", "run", "--rm", "--network", "meeshy-production",
        "--env", "MEESHY_MIGRATION_SOURCE_URI", "--env", "MEESHY_MIGRATION_TARGET_URI",
        "--volume", "/b/reports:/reports", "meeshy-tools:1.0.0",
        "sh", "-c", 'exec python -m migration plan --source "$MEESHY_MIGRATION_SOURCE_URI" '
                    '--target "$MEESHY_MIGRATION_TARGET_URI" --json /reports/plan.json']
    assert "--publish" not in argv and "-p" not in argv


def test_migration_spells_out_every_decision_of_the_stack():
    argv = rc.migration_command(EXT, "plan", report_path="/b/plan.json",
                                decisions={"read-statuses": "drop", "notifications": "migrate"})
    assert argv == ["sh", "-c",
                    'exec python -m migration plan --source "$MEESHY_MIGRATION_SOURCE_URI" '
                    '--target "$MEESHY_MIGRATION_TARGET_URI" --json /b/plan.json '
                    '--decision notifications=migrate --decision read-statuses=drop']


def test_migration_environment_names_both_databases():
    assert rc.migration_environment(DOCKER, "meeshy", "meeshy_v2") == {
        "MEESHY_MIGRATION_SOURCE_URI": "mongodb://meeshy-production-database:27017/meeshy?replicaSet=rs0",
        "MEESHY_MIGRATION_TARGET_URI": "mongodb://meeshy-production-database:27017/meeshy_v2?replicaSet=rs0"}


def test_migration_rejects_unknown_verbs():
    with pytest.raises(ValueError, match="unknown migration verb 'drop'"):
        rc.migration_command(EXT, "drop", report_path="/r.json")


def test_health_gate_external():
    assert rc.health_gate_command(EXT, deadline_seconds=120, interval_seconds=0.5,
                                  endpoints={"web": "http://127.0.0.1:9/api/health",
                                             "gateway": "http://127.0.0.1:9/health"}) == [
        "python", "-m", "steps.health_gate", "--deadline", "120", "--interval", "0.5",
        "--http", "gateway=http://127.0.0.1:9/health", "--http", "web=http://127.0.0.1:9/api/health",
        "--mongo-env", "MEESHY_HEALTH_MONGO_URI"]


def test_health_gate_docker_probes_services_by_container_name():
    endpoints = rc.docker_health_endpoints({"gateway": "meeshy-production-gateway",
                                            "translator": "meeshy-production-translator",
                                            "web": "meeshy-production-web",
                                            "static": "meeshy-production-static"})
    assert rc.health_gate_command(DOCKER, deadline_seconds=90, interval_seconds=1,
                                  endpoints=endpoints) == [
        "docker", "run", "--rm", "--network", "meeshy-production",
        "--env", "MEESHY_HEALTH_MONGO_URI", "meeshy-tools:1.0.0",
        "python", "-m", "steps.health_gate", "--deadline", "90", "--interval", "1",
        "--http", "gateway=http://meeshy-production-gateway:3000/health",
        "--http", "static=http://meeshy-production-static:80/health",
        "--http", "translator=http://meeshy-production-translator:8000/live",
        "--http", "web=http://meeshy-production-web:3100/api/health",
        "--mongo-env", "MEESHY_HEALTH_MONGO_URI"]


def test_migration_step_wraps_the_migration():
    inner = ["sh", "-c", "exec python -m migration run"]
    assert rc.migration_step_command(report_path="/r.json", timeout_seconds=480, migration=inner) == [
        "python", "-m", "steps.migration_step", "--report", "/r.json", "--timeout", "480",
        "--", *inner]


def test_data_check_external():
    assert rc.data_check_command(EXT, "changes", "meeshy_v2", baseline="/l/b/x.json.gz") == [
        "python", "-m", "steps.data_check", "changes", "--database", "meeshy_v2",
        "--baseline", "/l/b/x.json.gz"]
    assert rc.data_environment(EXT) == {"MEESHY_DATA_URI": "mongodb://127.0.0.1:27017"}


def test_data_check_docker_mounts_the_files_it_reads():
    assert rc.data_check_command(DOCKER, "changes", "meeshy", archive="/var/backups/m/a.archive.gz") == [
        "docker", "run", "--rm", "--network", "meeshy-production", "--env", "MEESHY_DATA_URI",
        "--volume", "/var/backups/m:/var/backups/m", "meeshy-tools:1.0.0",
        "python", "-m", "steps.data_check", "changes", "--database", "meeshy",
        "--archive", "/var/backups/m/a.archive.gz"]
    assert rc.data_environment(DOCKER) == {
        "MEESHY_DATA_URI": "mongodb://meeshy-production-database:27017/admin?replicaSet=rs0"}
