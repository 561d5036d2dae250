"""What `--require-smoke` reads (ops/smoke_verb.py: staging's ledger) and where the smoke user's
password is kept (ops/smoke_user.py: a 0600 file beside the ledger, never in it)."""
from __future__ import annotations

import os
import stat
from types import SimpleNamespace

import pytest

from ops import smoke_user
from ops.automation.ledger import Ledger
from ops.automation.snapshots import SnapshotError
from ops.smoke_verb import gateway_url, record, require_smoke, smoke_problem


def smoke(ok: bool, failed: str = "messages") -> dict:
    checks = [{"name": "health", "ok": True}, {"name": failed, "ok": ok}]
    return {"url": "https://gate.staging.example", "ok": ok, "checks": checks}


def test_no_smoke_check_is_a_problem(tmp_path):
    assert smoke_problem(Ledger(tmp_path), "staging") == (
        "staging has no smoke check recorded: run `./meeshy smoke staging`")


def test_a_passing_smoke_check_after_the_last_refresh_vouches(tmp_path):
    ledger = Ledger(tmp_path)
    ledger.append({"kind": "refresh", "opId": "refresh-1", "result": "succeeded"})
    record(ledger, smoke(True))
    assert smoke_problem(ledger, "staging") is None


def test_the_last_smoke_check_failing_is_a_problem_naming_the_failed_check(tmp_path):
    ledger = Ledger(tmp_path)
    record(ledger, smoke(True))
    record(ledger, smoke(False, "conversations"))
    problem = smoke_problem(ledger, "staging")
    assert "last smoke check" in problem and "failed (conversations)" in problem


def test_a_refresh_after_the_smoke_check_makes_it_stale(tmp_path):
    ledger = Ledger(tmp_path)
    record(ledger, smoke(True))
    ledger.append({"kind": "refresh", "opId": "refresh-2", "result": "succeeded"})
    assert "is older than its last refresh-staging" in smoke_problem(ledger, "staging")


def runner_with_staging(tmp_path):
    env = SimpleNamespace(ledger_root=lambda project, stack: tmp_path / project / stack)
    return SimpleNamespace(env=env, project="meeshy", stack_name="production")


def test_require_smoke_refuses_on_staging_s_ledger_and_passes_without_the_option(tmp_path):
    runner = runner_with_staging(tmp_path)
    require_smoke(runner, None)   # not asked: nothing read
    refused = r"--require-smoke: stage has no smoke check .*nothing was changed"
    with pytest.raises(SnapshotError, match=refused):
        require_smoke(runner, "stage")
    record(Ledger(tmp_path / "meeshy" / "stage"), smoke(True))
    require_smoke(runner, "stage")
    with pytest.raises(SnapshotError, match="staging has no smoke check"):
        require_smoke(runner, "staging")   # another stack's record does not count


def test_the_smoke_user_is_kept_0600_and_read_back(tmp_path):
    records = tmp_path / "ledger"
    path = smoke_user.save(records, smoke_user.SmokeUser("alice", "s3cret-password"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert smoke_user.load(records, "staging") == smoke_user.SmokeUser("alice", "s3cret-password")
    assert "s3cret" not in repr(smoke_user.load(records, "staging"))
    os.chmod(path, 0o644)
    with pytest.raises(smoke_user.SmokeUserError, match="readable by others"):
        smoke_user.load(records, "staging")
    smoke_user.save(records, smoke_user.SmokeUser("bob", "other"))   # an older file made private again
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_no_smoke_user_recorded_names_both_ways_to_give_one(tmp_path):
    with pytest.raises(smoke_user.SmokeUserError,
                       match="no smoke user recorded .* MEESHY_SMOKE_USERNAME and MEESHY_SMOKE_PASSWORD"):
        smoke_user.load(tmp_path, "staging", environ={"MEESHY_SMOKE_USERNAME": "alice"})


def test_the_environment_names_a_smoke_user_before_the_record(tmp_path):
    smoke_user.save(tmp_path, smoke_user.SmokeUser("alice", "recorded"))
    environ = {"MEESHY_SMOKE_USERNAME": "bob", "MEESHY_SMOKE_PASSWORD": "from-env"}
    assert smoke_user.load(tmp_path, "staging", environ=environ) == smoke_user.SmokeUser("bob", "from-env")
    assert smoke_user.load(tmp_path, "staging", environ={}).username == "alice"


def test_production_never_gets_a_smoke_password(monkeypatch):
    monkeypatch.setattr(smoke_user.subprocess, "run", lambda *a, **k: pytest.fail("ran"))
    with pytest.raises(smoke_user.SmokeUserError, match="refusing .* stack 'production'"):
        smoke_user.provision("production", "gateway:1", "mongodb://x/meeshy", network="n")


def fake_docker(monkeypatch, returncode=0, stdout="", stderr=""):
    seen = {}

    def run(argv, input, env, **options):
        seen.update(argv=argv, program=input, env=env)
        return SimpleNamespace(returncode=returncode, stdout=stdout, stderr=stderr)
    monkeypatch.setattr(smoke_user.subprocess, "run", run)
    return seen


def test_the_url_and_password_travel_in_the_environment_never_the_command_line(monkeypatch):
    url = "mongodb://meeshy:db-secret-pw@documentdb:27017/meeshy"
    said = 'log line\n{"username": "ines5", "userId": "u1", "conversationId": "c1"}\n'
    seen = fake_docker(monkeypatch, stdout=said)
    made = smoke_user.provision("staging", "gateway:1", url, network="meeshy-staging",
                                docker_host="ssh://ops@host")
    assert (made.user.username, made.user_id, made.conversation_id) == ("ines5", "u1", "c1")
    password = made.user.password
    assert len(password) >= 24 and seen["env"]["MEESHY_SMOKE_PASSWORD"] == password
    assert seen["env"]["DATABASE_URL"] == url
    assert seen["argv"][:3] == ["docker", "--host", "ssh://ops@host"]
    assert seen["argv"][-2:] == ["gateway:1", "-"] and "--network" in seen["argv"]
    assert all(name in seen["argv"] for name in ("DATABASE_URL", "MEESHY_SMOKE_PASSWORD"))
    assert not any(password in a or "db-secret-pw" in a for a in seen["argv"])
    assert "bcrypt" in seen["program"] and password not in seen["program"]


def test_a_failed_provisioning_names_the_image_and_hides_the_secrets(monkeypatch):
    url = "mongodb://meeshy:db-secret-pw@documentdb:27017/meeshy"
    fake_docker(monkeypatch, returncode=1, stderr=f"Error: Cannot find module 'bcrypt' ({url})\n")
    with pytest.raises(smoke_user.SmokeUserError) as raised:
        smoke_user.provision("staging", "standin:1", url, network="n")
    assert "standin:1 could not give a smoke user a password (exit 1)" in str(raised.value)
    assert "Cannot find module 'bcrypt'" in str(raised.value) and "db-secret-pw" not in str(raised.value)


def test_the_default_url_is_the_stack_s_public_gateway():
    assert gateway_url("staging", {"meeshy:domain": "meeshy.me"}).startswith("https://gate")
    assert "staging" in gateway_url("staging", {"meeshy:domain": "meeshy.me"})
    with pytest.raises(SystemExit, match="pass --url"):
        gateway_url("staging", {})


def provisioning_runner(tmp_path, monkeypatch, server, protect_data=False):
    from commands import steps as rc
    from ops import data_ops
    settings = SimpleNamespace(live_database="meeshy_v2")
    monkeypatch.setattr("config.release_settings.load_release_settings", lambda stack, values: settings)
    monkeypatch.setattr(data_ops, "server_for", lambda s, values: server)
    values = {"meeshy:images": {"gateway": "isopen/meeshy-gateway:1.1.0"}}
    assert isinstance(server, (rc.DockerServer, rc.ExternalServer))
    doc = SimpleNamespace(config={**values, "meeshy:protectData": protect_data},
                          plain_values=lambda: values)
    return SimpleNamespace(ledger=Ledger(tmp_path), desired=lambda: doc)


def test_provision_sets_the_user_in_the_database_the_services_use_and_keeps_it(tmp_path, monkeypatch):
    from commands.steps import DockerServer
    from ops.smoke_verb import provision
    server = DockerServer("meeshy-staging-mongo", "meeshy-staging", "tools:1", "mongodb://mongo:27017",
                          docker_host="ssh://ops@host", login=lambda url: url.replace("//", "//u:pw@"))
    runner = provisioning_runner(tmp_path, monkeypatch, server)
    calls = []

    def provisioned(stack, image, url, **where):
        calls.append((stack, image, url, where))
        return smoke_user.Provisioned(smoke_user.SmokeUser("ines5", "fresh-password"), "u1", "c1")
    monkeypatch.setattr(smoke_user, "provision", provisioned)
    provision(runner, "staging")
    assert calls == [("staging", "isopen/meeshy-gateway:1.1.0", "mongodb://u:pw@mongo:27017/meeshy_v2",
                      {"network": "meeshy-staging", "docker_host": "ssh://ops@host"})]
    assert smoke_user.load(tmp_path, "staging", environ={}).password == "fresh-password"
    [entry] = runner.ledger.entries("smoke-user")
    assert entry["username"] == "ines5" and "fresh-password" not in runner.ledger.path.read_text()


def test_provision_refuses_a_stack_without_docker(tmp_path, monkeypatch):
    from commands.steps import ExternalServer
    from ops.smoke_verb import provision
    runner = provisioning_runner(tmp_path, monkeypatch, ExternalServer("mongodb://127.0.0.1:27017"))
    with pytest.raises(smoke_user.SmokeUserError, match="--provision needs a stack on Docker"):
        provision(runner, "staging")


@pytest.mark.parametrize("stack, protect_data", [("production", False), ("staging", True)])
def test_provision_refuses_a_stack_whose_users_are_real(tmp_path, monkeypatch, stack, protect_data):
    from commands.steps import DockerServer
    from ops.smoke_verb import provision
    server = DockerServer("mongo", "net", "tools:1", "mongodb://mongo:27017")
    runner = provisioning_runner(tmp_path, monkeypatch, server, protect_data=protect_data)
    monkeypatch.setattr(smoke_user, "provision", lambda *a, **k: pytest.fail("provisioned"))
    with pytest.raises(smoke_user.SmokeUserError, match=f"--provision refused on stack '{stack}'"):
        provision(runner, stack)
    assert not (tmp_path / smoke_user.FILE).exists()
