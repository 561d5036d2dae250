"""ops refuses a mistyped stack, an invalid stack file and a clash with another stack before its
first Pulumi call: exit 2, every problem with its key, no stack created, no file written.

The refusals that must create nothing run `python -m ops` against the real Pulumi CLI with a
file backend in a temporary directory: without the check, `deploy` creates the stack there.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ops import cli
from ops.preflight import PreflightError, check
from tests.support.ops_project import REPO, assert_nothing_created, edit, files, make_project, real_ops


def test_a_mistyped_stack_is_refused_naming_the_nearest_stack_file(tmp_path):
    project = make_project(tmp_path)
    before = files(project)
    done = real_ops(tmp_path, project, "deploy", "stagign")
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == (f"ops deploy: no stack file Pulumi.stagign.yaml in {project}; "
                                   "did you mean staging?")
    assert_nothing_created(tmp_path, before)


def test_a_stack_with_no_near_name_lists_the_stacks(tmp_path):
    project = make_project(tmp_path)
    before = files(project)
    done = real_ops(tmp_path, project, "deploy", "www")
    assert done.returncode == 2
    assert done.stderr.strip().endswith("the stacks here are production, staging")
    assert_nothing_created(tmp_path, before)


@pytest.mark.parametrize("verb", ["deploy", "preview", "switch"])
def test_an_invalid_stack_file_lists_every_problem_and_creates_nothing(tmp_path, verb):
    project = make_project(tmp_path)
    edit(project, "staging", protectData="maybe",
         images={**yaml.safe_load((REPO / "Pulumi.staging.yaml").read_text())["config"]["meeshy:images"],
                 "gateway": "isopen/meeshy-gateway:latest"},
         migration={"sourceDatabase": "meeshy", "targetDatabase": "meeshy_v2", "toStpe": "0003"},
         **{"migration.toStep": "0003", "jwtSecret": None})
    before = files(project)
    done = real_ops(tmp_path, project, verb, "staging", "--yes") if verb == "switch" else \
        real_ops(tmp_path, project, verb, "staging")
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    for key in ("meeshy:protectData: expected true or false, got 'maybe'",
                "meeshy:images.gateway: expected an image pinned",
                "meeshy:migration.toStpe: unknown setting",
                "meeshy:migration.toStep: unknown setting; Pulumi reads a dotted key as one flat key",
                "meeshy:jwtSecret: missing secret"):
        assert f"  - {key}" in done.stderr, done.stderr
    assert done.stderr.startswith(f"ops {verb}: refused, 5 problems:")
    assert_nothing_created(tmp_path, before)


@pytest.mark.parametrize("text, where", [(b"config:\n  meeshy:domain: [meeshy.me\n", " (line 3)"),
                                         (b"config:\n  meeshy:domain: \xff\xfe\n", "")])
def test_an_unreadable_stack_file_is_one_sentence(tmp_path, capsys, text, where):
    project = make_project(tmp_path)
    (project / "Pulumi.staging.yaml").write_bytes(text)
    assert cli.main(["preview", "staging", "--project-dir", str(project)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"ops preview: {project / 'Pulumi.staging.yaml'}{where}: not a readable YAML")
    assert "Traceback" not in err and len(err.splitlines()) == 1


def _refusal(project: Path, *argv: str) -> list[str]:
    args = cli.build_parser().parse_args([*argv, "--project-dir", str(project)])
    with pytest.raises(PreflightError) as refused:
        check(args)
    return refused.value.problems


def test_staging_on_production_ports_is_refused_naming_both_stacks(tmp_path, capsys):
    project = make_project(tmp_path)
    edit(project, "staging", ports={"http": 80, "https": 443, "database": 27018})
    assert cli.main(["preview", "staging", "--project-dir", str(project)]) == 2
    err = capsys.readouterr().err
    assert ("  - meeshy:ports.http: host port 80 is also declared by stack production "
            "(meeshy:ports.http in Pulumi.production.yaml); stacks on one host never share it") in err
    assert "  - meeshy:ports.https: host port 443 is also declared by stack production" in err


def test_hosts_and_adopted_names_of_another_stack_are_refused(tmp_path):
    project = make_project(tmp_path)
    # production at staging.meeshy.me would answer staging's own hosts.
    edit(project, "production", domain="staging.meeshy.me")
    edit(project, "staging", adopt={"volumes": {"database-data": "meeshy-production-database-data"},
                                    "networks": {"main": "meeshy-production"}})
    problems = _refusal(project, "deploy", "staging")
    assert ("meeshy:domain: public host staging.meeshy.me is also declared by stack production "
            "(meeshy:domain in Pulumi.production.yaml); stacks on one host never share it") in problems
    assert any(p.startswith("meeshy:domain: public host gate.staging.meeshy.me") for p in problems)
    assert any(p.startswith("meeshy:adopt.volumes.database-data: volume meeshy-production-database-data "
                            "is also declared by stack production (the stack name in") for p in problems)
    assert any(p.startswith("meeshy:adopt.networks.main: network meeshy-production is also")
               for p in problems)


def test_this_projects_stack_files_pass_with_their_secrets_set(tmp_path):
    project = make_project(tmp_path)
    for argv in (["deploy", "staging"], ["preview", "production"], ["switch", "production"],
                 ["refresh-staging", "staging", "--from", "production"], ["history", "staging"]):
        check(cli.build_parser().parse_args([*argv, "--project-dir", str(project)]))


def test_an_external_database_stack_is_checked_by_the_release_model_only(tmp_path):
    project = make_project(tmp_path)
    edit(project, "rehearsal", externalDatabase={"uri": "mongodb://127.0.0.1:27017"},
         healthGate={"endpoints": {"gateway": "http://127.0.0.1:1/health"}}, database={"name": "meeshy"})
    check(cli.build_parser().parse_args(["deploy", "rehearsal", "--project-dir", str(project)]))
    edit(project, "rehearsal", healthGate={"deadlineSecond": 5}, probeToken="x",
         backup={"retain": 0}, maintenance="yes")
    assert _refusal(project, "deploy", "rehearsal") == [
        "meeshy:probeToken: unknown setting; known settings are listed in docs/configuration.md",
        "meeshy:backup.retain must be between 1 and 1000, got 0",
        "meeshy:maintenance: expected true or false, got 'yes'",
        "meeshy:healthGate.deadlineSecond: unknown setting; expected one of deadlineSeconds, "
        "endpoints, intervalSeconds"]


def test_a_key_both_models_read_is_named_once(tmp_path):
    project = make_project(tmp_path)
    edit(project, "staging", release="not a release", backupDir="relative/dir")
    assert [p for p in _refusal(project, "deploy", "staging")] == [
        "meeshy:release: expected a release label (letters, digits, '.', '_', '+', '-'; at most 64), "
        "got 'not a release'",
        "meeshy:backupDir: expected an absolute host path without '..', got 'relative/dir'"]


def test_service_secrets_set_by_path_pass_and_one_set_in_plain_text_is_named(tmp_path):
    """`pulumi config set --secret --path 'meeshy:serviceSecrets.<name>'` encrypts each entry,
    not the section: the verbs read them as the engine does (present, encrypted, unread); an
    entry set without --secret is stored in plain text and refused."""
    project = make_project(tmp_path)
    env = {"ENCRYPTION_MASTER_KEY": "encryptionKey", "TURN_SECRET": "turnSecret"}
    edit(project, "staging", services={"gateway": {"secretEnv": env}},
         serviceSecrets={"encryptionKey": {"secure": "v1:AAAA"}, "turnSecret": {"secure": "v1:BBBB"}})
    for verb in ("deploy", "switch"):
        check(cli.build_parser().parse_args([verb, "staging", "--project-dir", str(project)]))
    edit(project, "staging", serviceSecrets={"encryptionKey": {"secure": "v1:AAAA"},
                                             "turnSecret": "typed-in-clear-" + "x" * 24})
    assert _refusal(project, "switch", "staging") == [
        "meeshy:serviceSecrets: is stored in plain text; set its entries again with "
        "`pulumi config set --secret --path 'meeshy:serviceSecrets.<name>' ...`"]
