"""Where the project and its tools live on this machine, and whether a path can be written.

Shared by ops (verbs, Automation API), the takeover and the release's command lines, so each
finds the project directory (Pulumi.yaml, the stack files) and the tool cache the same way.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def tools_dir() -> Path:
    """The tool cache tools/bootstrap.sh fills: MEESHY_TOOLS_DIR, else ~/.cache/meeshy-infra."""
    return Path(os.environ.get("MEESHY_TOOLS_DIR") or Path.home() / ".cache" / "meeshy-infra")


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
