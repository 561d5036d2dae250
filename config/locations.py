"""Where the project and its tools live on this machine, and whether a path can be written.

Shared by ops (verbs, Automation API), the takeover and the release's command lines, so each
finds the project directory (Pulumi.yaml, the stack files) and the tool cache the same way.
"""
from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def tools_dir() -> Path:
    """The tool cache tools/bootstrap.sh fills: MEESHY_TOOLS_DIR, else ~/.cache/meeshy-infra."""
    return Path(os.environ.get("MEESHY_TOOLS_DIR") or Path.home() / ".cache" / "meeshy-infra")


def interpreter_dir() -> Path:
    """A directory whose `python` is the interpreter running now, to put first on PATH.

    The release steps' command lines name the interpreter `python` (commands/steps.py), so a
    machine-independent command runs the same everywhere; whoever runs one here must make that
    name resolve to the project's interpreter, not to whatever PATH holds (a system Python
    without pymongo, or none). A virtualenv's bin directory already has it; for any other
    interpreter a link named `python` is kept in the tool cache, one per interpreter path.
    """
    here = Path(sys.executable)
    candidate = here.parent / "python"
    if candidate.exists() and os.path.samefile(candidate, here):
        return here.parent
    digest = hashlib.sha256(str(here).encode()).hexdigest()[:12]
    links = tools_dir() / "interpreters" / digest
    link = links / "python"
    if not (link.is_symlink() and os.readlink(link) == str(here)):
        links.mkdir(parents=True, exist_ok=True)
        partial = links / f".python.{os.getpid()}"
        partial.unlink(missing_ok=True)
        partial.symlink_to(here)
        partial.replace(link)           # atomic: a concurrent ops never sees a missing link
    return links


def with_project_tools(environ: dict[str, str]) -> dict[str, str]:
    """`environ` for a step this machine runs: interpreter_dir() first on PATH, then the tool
    cache's bin (mongodump, mongorestore, pulumi), then the caller's PATH; the repository on
    PYTHONPATH. So `python -m steps.X` and `mongodump` are the project's, whatever PATH held."""
    path = [str(interpreter_dir()), str(tools_dir() / "bin"),
            *filter(None, environ.get("PATH", "").split(os.pathsep))]
    paths = [str(REPO_ROOT), *filter(None, environ.get("PYTHONPATH", "").split(os.pathsep))]
    return {**environ, "PATH": os.pathsep.join(dict.fromkeys(path)),
            "PYTHONPATH": os.pathsep.join(dict.fromkeys(paths))}


def writable_problem(path: Path, option: str, directory: bool = False) -> str | None:
    """Why `path` cannot be written (a report file, or a directory to fill), tried for real in
    the nearest existing directory with a file that vanishes at once; None when it can."""
    path = Path(path)
    if path.exists() and path.is_dir() != directory:
        return f"{option} {path}: {'is not a directory' if directory else 'is a directory, not a file'}"
    if path.exists() and not directory and not path.is_file():
        # A FIFO or device would block or swallow the report written at the end.
        return f"{option} {path}: is not a regular file"
    base = path if directory else path.parent
    while not base.exists() and base != base.parent:
        base = base.parent
    if not base.is_dir():
        return f"{option} {path}: {base} is a file, so nothing can be written beneath it"
    try:
        with tempfile.TemporaryFile(dir=base):
            pass
    except OSError as error:
        return f"{option} {path}: cannot write in {base} ({error.strerror or error})"
    try:
        if path.is_file():
            with open(path, "ab"):      # appends nothing: the report replaces it at the end
                pass
    except OSError as error:
        return f"{option} {path}: the file exists and cannot be written ({error.strerror or error})"
    return None
