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


def test_backup_external_dumps_with_this_machines_mongodump():
    assert rc.backup_command(EXT, backup_dir="/var/backups/meeshy", stack="production",
                             database="meeshy", label="2026.02.1", retain=5,
                             timeout_seconds=300) == [
        "python", "-m", "steps.backup_run", "--dir", "/var/backups/meeshy",
        "--stack", "production", "--database", "meeshy", "--label", "2026.02.1",
        "--retain", "5", "--timeout", "300", "--",
        "mongodump", "--uri=mongodb://127.0.0.1:27017", "--db=meeshy", "--archive", "--gzip"]


def test_backup_docker_runs_on_the_engines_host_into_its_backup_folder():
    remote = rc.DockerServer(**{**DOCKER.__dict__, "docker_host": "ssh://ops@host"})
    assert rc.backup_command(remote, backup_dir="/srv/backups", stack="production",
                             database="meeshy", label="r2", retain=3, timeout_seconds=60) == [
        "docker", "--host", "ssh://ops@host", "run", "--rm", "--network", "meeshy-production",
        "--volume", "/srv/backups:/srv/backups", "meeshy-tools:1.0.0",
        "python", "-m", "steps.backup_run", "--dir", "/srv/backups", "--stack", "production",
        "--database", "meeshy", "--label", "r2", "--retain", "3", "--timeout", "60", "--",
        "mongodump", "--uri=mongodb://meeshy-production-database:27017/?replicaSet=rs0",
        "--db=meeshy", "--archive", "--gzip"]


def test_restore_same_database_drops_and_limits_to_that_database():
    assert rc.restore_command(EXT, "meeshy", "meeshy", "/b/a.archive.gz") == [
        "mongorestore", "--uri=mongodb://127.0.0.1:27017", "--archive=/b/a.archive.gz", "--gzip",
        "--drop", "--nsInclude=meeshy.*", "--noIndexRestore"]


def test_restore_into_another_database_reads_the_archive_where_it_is():
    assert rc.restore_command(DOCKER, "meeshy", "meeshy_staging", "/srv/b/a.archive.gz") == [
        "docker", "run", "--rm", "--network", "meeshy-production",
        "--volume", "/srv/b:/srv/b", "meeshy-tools:1.0.0",
        "mongorestore", "--uri=mongodb://meeshy-production-database:27017/?replicaSet=rs0",
        "--archive=/srv/b/a.archive.gz", "--gzip", "--drop",
        "--nsFrom=meeshy.*", "--nsTo=meeshy_staging.*", "--nsInclude=meeshy.*",
        "--noIndexRestore"]


LOGIN = rc.DockerServer(**{**DOCKER.__dict__, "uri_options": "",
                           "login": lambda url: url.replace("//", "//meeshy:pw-example@")})


def test_a_server_with_a_login_gets_its_url_from_the_environment_never_the_command_line():
    backup = rc.backup_command(LOGIN, backup_dir="/srv/backups", stack="production",
                               database="meeshy", label="r2", retain=3, timeout_seconds=60)
    restore = rc.restore_command(LOGIN, "meeshy", "meeshy_staging", "/srv/b/a.archive.gz")
    for argv in (backup, restore):
        assert "pw-example" not in " ".join(argv)
        assert not any(arg.startswith("--uri=") for arg in argv)
        assert argv[argv.index("--env") + 1] == rc.DATA_URI_ENV
        tool = argv[argv.index("sh"):]
        assert tool[:4] == ["sh", "-c", 'exec "$@" "--uri=$MEESHY_DATA_URI"', "sh"]
    assert backup[-5:] == ["sh", "mongodump", "--db=meeshy", "--archive", "--gzip"]
    assert restore[-8:-5] == ["mongorestore", "--archive=/srv/b/a.archive.gz", "--gzip"]
    assert rc.tool_uri_environment(LOGIN) == {
        rc.DATA_URI_ENV: "mongodb://meeshy:pw-example@meeshy-production-database:27017/"}
    assert rc.tool_uri_environment(DOCKER) == {} and rc.tool_uri_env(EXT) == ()


def test_manifest_and_copy_read_the_backup_where_it_is_without_the_network():
    assert rc.stored_manifest_command(DOCKER, "/srv/b/a.archive.gz") == [
        "docker", "run", "--rm", "--volume", "/srv/b:/srv/b:ro", "meeshy-tools:1.0.0",
        "sh", "-c", 'sha256sum -- "$1" | cut -d " " -f 1 && cat -- "$1.json"', "sh",
        "/srv/b/a.archive.gz"]
    assert rc.read_file_command(DOCKER, "/srv/b/a.archive.gz") == [
        "docker", "run", "--rm", "--volume", "/srv/b:/srv/b:ro", "meeshy-tools:1.0.0",
        "cat", "/srv/b/a.archive.gz"]


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
        "--volume", "/b/reports:/b/reports", "meeshy-tools:1.0.0",
        "sh", "-c", 'exec python -m migration plan --source "$MEESHY_MIGRATION_SOURCE_URI" '
                    '--target "$MEESHY_MIGRATION_TARGET_URI" --json /b/reports/plan.json']
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
    assert rc.migration_step_command(EXT, inner, report_path="/r.json", timeout_seconds=480) == [
        "python", "-m", "steps.migration_step", "--report", "/r.json", "--timeout", "480",
        "--", *inner]


def test_migration_step_and_migration_run_together_where_the_database_is():
    inner = rc.migration_script("run", report_path="/srv/b/r.json")
    assert rc.migration_step_command(DOCKER, inner, report_path="/srv/b/r.json",
                                     timeout_seconds=60) == [
        "docker", "run", "--rm", "--network", "meeshy-production",
        "--env", "MEESHY_MIGRATION_SOURCE_URI", "--env", "MEESHY_MIGRATION_TARGET_URI",
        "--volume", "/srv/b:/srv/b", "meeshy-tools:1.0.0",
        "python", "-m", "steps.migration_step", "--report", "/srv/b/r.json", "--timeout", "60",
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


def test_archive_changes_read_the_archives_where_they_are_without_the_network():
    remote = rc.DockerServer(**{**DOCKER.__dict__, "docker_host": "ssh://ops@server.example"})
    argv = rc.archive_changes_command(remote, "/srv/b/db/kept.archive.gz", "meeshy_v2",
                                      baseline="/var/lib/ops/baselines/b.json.gz")
    assert argv[:12] == ["docker", "--host", "ssh://ops@server.example", "run", "--rm",
                         "--volume", "/srv/b/db:/srv/b/db:ro",
                         "--volume", "/var/lib/ops/baselines:/var/lib/ops/baselines:ro",
                         "meeshy-tools:1.0.0", "python", "-c"]
    assert "--network" not in argv
    assert argv[13:] == ["/srv/b/db/kept.archive.gz", "meeshy_v2", "baseline",
                         "/var/lib/ops/baselines/b.json.gz"]
    here = rc.archive_changes_command(EXT, "/b/kept.gz", "meeshy", reference="/b/ref.gz")
    assert here[:2] == ["python", "-c"] and here[3:] == ["/b/kept.gz", "meeshy", "archive", "/b/ref.gz"]
    with pytest.raises(ValueError):
        rc.archive_changes_command(EXT, "/b/kept.gz", "meeshy")


def test_the_archive_read_back_uses_only_what_every_tools_image_has():
    # Only names steps.data_check and steps.protocol have had since the first tools image.
    script = rc.archive_changes_command(EXT, "/b/k.gz", "db", reference="/b/r.gz")[2]
    imports = [line for line in script.splitlines() if line.startswith("from steps")]
    assert imports == [
        "from steps.data_check import archive_document_hashes as hashes, changes, read_baseline",
        "from steps.protocol import print_result"]
    for line in imports:
        exec(line, {})          # noqa: S102 - they resolve in this checkout too
