"""Every command docs/runbook.md shows exists and accepts the arguments shown.

Command lines are read from the runbook's fenced blocks (```sh ... ```; `text` blocks are
sample output). Each is checked against the real CLI, not a copy of it:
- `./meeshy ARGS`: the wrapper exists, is executable and hands its arguments to `python -m ops`;
  ARGS are parsed by the ops CLI's own parser (ops.cli.build_parser);
- `python -m MODULE ARGS`: ARGS are parsed by MODULE's `build_parser()` (`ops` -> ops.cli);
- `tools/NAME ...`: the script exists and is executable.
A verb or option the CLI does not have fails its test case, named by the command line.
"""
from __future__ import annotations

import contextlib
import importlib
import io
import os
import re
import shlex
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
RUNBOOK = REPO / "docs" / "runbook.md"
PREFIXES = ("./meeshy ", "python -m ops", "python -m takeover", "tools/")


def runbook_commands(text: str) -> list[str]:
    """Project command lines of the shell blocks, with `\\` continuations joined."""
    commands: list[str] = []
    for lang, body in re.findall(r"^```(\w*)\n(.*?)^```", text, flags=re.S | re.M):
        if lang in ("text", "yaml", "json"):
            continue
        for line in body.replace("\\\n", " ").splitlines():
            line = line.strip()
            if line.startswith(PREFIXES):
                commands.append(line)
    return commands


COMMANDS = runbook_commands(RUNBOOK.read_text())


def parse_with(module_name: str, args: list[str]) -> None:
    module = importlib.import_module("ops.cli" if module_name == "ops" else module_name)
    assert hasattr(module, "build_parser"), f"{module.__name__} has no build_parser() to check against"
    err, refused = io.StringIO(), None
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            module.build_parser().parse_args(args)
    except SystemExit as exit_:
        refused = exit_.code
    if refused is not None:
        said = err.getvalue().strip().splitlines()
        pytest.fail(f"`{module_name}` refuses {shlex.join(args)!r} (exit {refused}): "
                    f"{said[-1] if said else ''}", pytrace=False)


def test_the_runbook_shows_every_operator_verb():
    verbs = {shlex.split(c)[1] for c in COMMANDS if c.startswith("./meeshy ")}
    assert {"audit", "preview", "switch", "rollback", "history", "refresh-staging", "teardown"} <= verbs
    assert any(c.startswith("python -m takeover.compose.handover restore") for c in COMMANDS)


def test_the_extractor_reads_only_shell_blocks():
    sample = "```sh\n./meeshy history production  # comment\npython -m ops \\\n  preview staging\n```\n" \
             "```text\n./meeshy not-a-command\n```\n"
    assert runbook_commands(sample) == ["./meeshy history production  # comment",
                                      "python -m ops    preview staging"]


@pytest.mark.parametrize("command", COMMANDS, ids=COMMANDS)
def test_runbook_command_exists_and_accepts_its_arguments(command):
    words = shlex.split(command, comments=True)
    if words[0] == "./meeshy":
        wrapper = REPO / "meeshy"
        assert wrapper.is_file(), "the ./meeshy wrapper does not exist at the repository root"
        assert os.access(wrapper, os.X_OK), "./meeshy is not executable"
        assert re.search(r"-m\s+ops\b", wrapper.read_text()), "./meeshy does not hand over to `python -m ops`"
        parse_with("ops", words[1:])
    elif words[:2] == ["python", "-m"]:
        parse_with(words[2], words[3:])
    else:
        script = REPO / words[0]
        assert script.is_file() and os.access(script, os.X_OK), f"{words[0]} is not an executable script"
