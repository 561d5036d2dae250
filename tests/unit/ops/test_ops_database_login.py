"""ops' own data operations on a stack whose database needs a login (`meeshy:database.server:
documentdb`): server_for reads the stack's meeshy:databasePassword once, every step ops runs
gets the login URL in its environment and never on its command line, a stack without a login
keeps its commands as they were, and a missing password is named before anything runs. The
subprocesses are stand-ins that record argv and environment."""
from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from commands import steps as rc
from config.locations import tools_dir
from config.release_settings import load_release_settings
from ops import data_ops
from ops.automation import stack_secrets
from ops.switch import rollback

PASSWORD = "ops-login-example-pw"
LOGIN_MARK = f"meeshy:{PASSWORD}@"


def _values(server: str) -> dict:
    return {"meeshy:rehearsal": True, "meeshy:release": "r1", "meeshy:backupDir": "/srv/backups",
            "meeshy:database": {"name": "meeshy", "server": server,
                                "replicaSet": {"enabled": False}},
            "meeshy:tools": {"image": "meeshy-tools:1.0.0"}}


def _server(stack: str, server: str) -> tuple[rc.Server, object]:
    values = _values(server)
    settings = load_release_settings(stack, values)
    return data_ops.server_for(settings, values), settings


@pytest.fixture
def password_of(monkeypatch):
    """Registers a stack's secret reader as a StackRunner would; returns the keys asked for."""
    asked: list[tuple[str, str]] = []
    monkeypatch.setattr(stack_secrets, "_readers", {})

    def register(stack: str, value: str | None):
        stack_secrets.register(stack, lambda key: asked.append((stack, key)) or value)
        return asked
    return register


@pytest.fixture
def ran(monkeypatch):
    """Every subprocess data_ops and the rollback's health gate start: (argv, env)."""
    calls: list[tuple[list[str], dict]] = []

    def run(argv, env=None, text=False, **_):      # the health gate reads text, data_ops bytes
        calls.append((list(argv), dict(env or {})))
        out = json.dumps({"healthy": True}) if text else "{}"
        return SimpleNamespace(returncode=0, stdout=out if text else out.encode(),
                               stderr="" if text else b"")
    monkeypatch.setattr(data_ops.subprocess, "run", run)
    monkeypatch.setattr(data_ops, "verify_archive", lambda *a, **k: {})
    return calls


def _every_operation(server, settings, tmp_path) -> None:
    """Each operation ops runs against a stack's database, once."""
    data_ops.digests(server, "meeshy")
    data_ops.baseline(server, "meeshy", tmp_path / "baseline.json")
    data_ops.changes_since(server, "meeshy", baseline_path=tmp_path / "baseline.json")
    data_ops.drop_if_archived(server, "meeshy", "/srv/backups/a.archive.gz")
    data_ops.take_backup(server, settings, "meeshy", "r1")
    data_ops.restore(server, "/srv/backups/a.archive.gz", "meeshy", "meeshy_staging")
    data_ops.migration_plan(server, "meeshy", "meeshy_v2", tmp_path / "plan.json")
    data_ops.prisma_read(server, "gateway:2", "meeshy_v2")
    rollback._health(server, settings, 5.0)


# What reaches the database (the rest reads files where the backups are: no URL needed).
DATABASE_STEPS = ("steps.data_check", "steps.backup_run", "mongorestore", "migration plan",
                  "steps.prisma_read", "steps.health_gate")


def _reaches_database(argv: list[str]) -> bool:
    line = " ".join(argv)
    return any(step in line for step in DATABASE_STEPS)


def test_every_step_of_a_documentdb_stack_gets_the_login_in_its_environment_only(
        password_of, ran, tmp_path):
    asked = password_of("rehearsal", PASSWORD)
    server, settings = _server("rehearsal", "documentdb")
    assert asked == [("rehearsal", "meeshy:databasePassword")]    # once, when the server is built
    assert PASSWORD not in repr(server)
    _every_operation(server, settings, tmp_path)
    assert asked == [("rehearsal", "meeshy:databasePassword")]
    database_steps = [(argv, env) for argv, env in ran if _reaches_database(argv)]
    assert len(database_steps) == 10, [argv[-6:] for argv, _ in ran]
    for argv, env in ran:
        assert PASSWORD not in " ".join(argv), argv
        assert not any(arg.startswith("--uri") for arg in argv), argv
    for argv, env in database_steps:
        logged_in = sorted(name for name, value in env.items() if LOGIN_MARK in str(value))
        assert logged_in, argv
        passed = {argv[i + 1] for i, arg in enumerate(argv) if arg == "--env"}
        if argv[0] == "docker":      # into the tools container by name, the value stays here
            assert set(logged_in) <= passed, argv
        assert all("authSource=admin&authMechanism=SCRAM-SHA-256" in env[n] for n in logged_in)


def test_a_stack_without_a_login_keeps_its_commands_and_environments(password_of, ran, tmp_path):
    asked = password_of("rehearsal", PASSWORD)
    server, settings = _server("rehearsal", "ferretdb")
    assert server.login is None and asked == []
    plain = rc.DockerServer("meeshy-rehearsal-database", "meeshy-rehearsal",
                            "meeshy-tools:1.0.0", "mongodb://meeshy-rehearsal-database:27017")
    assert (server.container, server.network, server.member_uri, server.uri_options) == (
        plain.container, plain.network, plain.member_uri, plain.uri_options)
    _every_operation(server, settings, tmp_path)
    mine = list(ran)
    ran.clear()
    _every_operation(plain, settings, tmp_path)
    assert mine == ran
    assert all("@" not in str(value) for _, env in mine for value in env.values())
    backup = next(argv for argv, _ in mine if "steps.backup_run" in argv)
    assert "--uri=mongodb://meeshy-rehearsal-database:27017/" in backup and "sh" not in backup


def test_a_documentdb_stack_without_its_password_is_refused_naming_the_key(password_of, ran):
    password_of("rehearsal", None)
    with pytest.raises(data_ops.DataOperationError,
                       match=r"meeshy:databasePassword is not set for stack 'rehearsal'"):
        _server("rehearsal", "documentdb")
    with pytest.raises(data_ops.DataOperationError,
                       match=r"meeshy:databasePassword of stack 'staging' cannot be read"):
        _server("staging", "documentdb")
    assert ran == []


def test_a_failing_reader_is_named_without_its_value(password_of):
    def failing(key):
        raise RuntimeError(f"`pulumi config get {key}` failed: error: incorrect passphrase")
    stack_secrets.register("rehearsal", failing)
    with pytest.raises(data_ops.DataOperationError, match="incorrect passphrase"):
        _server("rehearsal", "documentdb")


def test_a_failed_step_never_repeats_a_login_url(monkeypatch, password_of):
    password_of("rehearsal", PASSWORD)
    server, _ = _server("rehearsal", "documentdb")
    url = server.database_uri("meeshy")
    monkeypatch.setattr(data_ops.subprocess, "run", lambda argv, **kw: SimpleNamespace(
        returncode=1, stdout=b"", stderr=f"error connecting to {url}: auth failed".encode()))
    with pytest.raises(data_ops.DataOperationError) as failed:
        data_ops.digests(server, "meeshy")
    assert PASSWORD not in str(failed.value) and "mongodb://meeshy:***@" in str(failed.value)


PULUMI = tools_dir() / "bin" / "pulumi"


@pytest.mark.skipif(not PULUMI.is_file(), reason=f"{PULUMI} not built (tools/build-pulumi.sh)")
def test_a_stack_runner_reads_the_password_with_the_stack_passphrase(tmp_path, monkeypatch,
                                                                     password_of):
    """The real CLI on a file backend: the secret stays encrypted in the stack file, the runner
    reads it with the passphrase, a wrong passphrase or an unset key is named, never the value."""
    from pulumi import automation as auto

    from ops.automation.env import OpsEnvironment
    from ops.automation.stack_runner import StackRunner
    project = tmp_path / "project"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: login-check\nruntime: python\n")
    (tmp_path / "state").mkdir()
    env = OpsEnvironment(PULUMI, tmp_path / "state", tools_dir() / "pulumi-home")

    def runner(passphrase: str) -> StackRunner:
        monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", passphrase)
        return StackRunner(env, project, "rehearsal", log=lambda message: None, create=True)
    first = runner("unit-passphrase-not-a-secret")
    with pytest.raises(stack_secrets.StackSecretError, match="databasePassword is not set"):
        stack_secrets.database_password("rehearsal")
    first.stack.set_config("meeshy:databasePassword", auto.ConfigValue(PASSWORD, secret=True))
    assert PASSWORD not in first.stack_file.read_text()
    assert stack_secrets.database_password("rehearsal") == PASSWORD
    runner("a-wrong-passphrase")
    with pytest.raises(stack_secrets.StackSecretError,
                       match="cannot be read: .*failed: error: incorrect passphrase") as refused:
        stack_secrets.database_password("rehearsal")
    assert PASSWORD not in str(refused.value)
