"""refresh-staging never restores over a protected stack nor over its own source; report and
snapshot paths are checked writable before any work; an operator reads a sentence, never a
traceback. Refusals run against the real Pulumi CLI with a file backend in a temporary
directory, to show that nothing was created or written."""
from __future__ import annotations

import os

import pytest
import yaml

from ops import cli
from ops.preflight import PreflightError, check
from takeover.audit import capture as audit
from tests.support.ops_project import assert_nothing_created, edit, files, make_project, real_ops


def _refused(tmp_path, *argv: str) -> str:
    project = make_project(tmp_path) if not (tmp_path / "project").exists() else tmp_path / "project"
    before = files(project)
    done = real_ops(tmp_path, project, *argv)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert_nothing_created(tmp_path, before)
    return done.stderr.strip()


def test_production_is_never_a_refresh_destination(tmp_path):
    assert _refused(tmp_path, "refresh-staging", "production", "--from", "staging") == (
        "ops refresh-staging: refusing to restore into stack production: it is production, so its "
        "data is never replaced by another stack's backup")


def test_a_stack_protected_by_its_own_settings_is_never_a_refresh_destination(tmp_path):
    edit(make_project(tmp_path), "staging", protectData=True)
    assert _refused(tmp_path, "refresh-staging", "staging") == (
        "ops refresh-staging: refusing to restore into stack staging: its meeshy:protectData is "
        "true, so its data is never replaced by another stack's backup")


def test_a_platform_stack_is_protected_unless_its_file_says_otherwise(tmp_path):
    project = make_project(tmp_path)
    staging = yaml.safe_load((project / "Pulumi.staging.yaml").read_text())["config"]
    edit(project, "qa", **{key[len("meeshy:"):]: value for key, value in staging.items()})
    edit(project, "qa", ports={"http": 9080, "https": 9443}, protectData=None)
    args = cli.build_parser().parse_args(["refresh-staging", "qa", "--project-dir", str(project)])
    with pytest.raises(PreflightError) as refused:
        check(args)
    assert refused.value.problems == [
        "refusing to restore into stack qa: its meeshy:protectData is true "
        "(the default), so its data is never replaced by another stack's backup"]
    edit(project, "qa", protectData=False)
    check(args)


def test_from_the_destination_itself_is_one_sentence(tmp_path):
    assert _refused(tmp_path, "refresh-staging", "staging", "--from", "staging") == (
        "ops refresh-staging: --from staging is the destination itself; --from "
        "names the stack whose latest backup is copied into it (default production)")


def test_a_mistyped_source_names_the_nearest_stack(tmp_path):
    message = _refused(tmp_path, "refresh-staging", "staging", "--from", "prodution")
    assert message.startswith("ops refresh-staging: --from: no stack file Pulumi.prodution.yaml in ")
    assert message.endswith("; did you mean production?")


@pytest.mark.parametrize("where", ["under-a-file", "a-directory", "a-fifo"])
def test_an_unwritable_report_path_is_refused_before_any_work(tmp_path, where):
    (tmp_path / "afile").write_text("not a directory")
    (tmp_path / "adir").mkdir()
    os.mkfifo(tmp_path / "afifo")
    target = tmp_path / {"under-a-file": "afile/report.json", "a-directory": "adir",
                         "a-fifo": "afifo"}[where]
    expected = {"under-a-file": f"{tmp_path / 'afile'} is a file, so nothing can be written beneath it",
                "a-directory": "is a directory, not a file", "a-fifo": "is not a regular file"}[where]
    assert _refused(tmp_path, "preview", "staging", "--json", str(target)) == (
        f"ops preview: --json {target}: {expected}")


def test_a_report_lost_after_the_work_is_a_sentence_and_a_failure(tmp_path, monkeypatch, capsys):
    project = make_project(tmp_path)
    target = tmp_path / "report.json"

    def work(args):                 # the path turns into a directory while the verb runs
        target.mkdir()
        return 0, {"result": "succeeded"}
    monkeypatch.setattr(cli, "run", work)
    assert cli.main(["preview", "staging", "--project-dir", str(project), "--json", str(target)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"ops preview: the verb ended with exit code 0 but its report could not "
                          f"be written to {target} (")
    assert "Traceback" not in err


def test_an_unexpected_error_is_one_line_and_its_traceback_on_request(tmp_path, monkeypatch, capsys):
    project = make_project(tmp_path)

    def broken(args):
        raise KeyError("Notification")
    monkeypatch.setattr(cli, "run", broken)
    argv = ["history", "staging", "--project-dir", str(project)]
    assert cli.main(argv) == 1
    assert capsys.readouterr().err == ("ops history: 'Notification' "
                                       "(MEESHY_OPS_TRACEBACK=1 shows where)\n")
    monkeypatch.setenv("MEESHY_OPS_TRACEBACK", "1")
    assert cli.main(argv) == 1
    assert "Traceback (most recent call last)" in capsys.readouterr().err


class _UntouchableEngine:
    def __getattr__(self, name):
        raise AssertionError(f"the engine was asked {name} before --out was checked")


def test_an_audit_out_path_that_cannot_be_written_is_refused_before_the_engine(tmp_path, capsys):
    (tmp_path / "afile").write_text("not a directory")
    out = tmp_path / "afile" / "snapshot"
    with pytest.raises(audit.AuditError) as refused:
        audit.audit("production", out, engine=_UntouchableEngine())
    assert str(refused.value) == (f"--out {out}: {tmp_path / 'afile'} is a file, so nothing can be "
                                  "written beneath it")
    assert cli.main(["audit", "production", "--out", str(out)]) == 2
    assert capsys.readouterr().err.startswith(f"audit failed: --out {out}: ")
    assert (tmp_path / "afile").read_text() == "not a directory"
