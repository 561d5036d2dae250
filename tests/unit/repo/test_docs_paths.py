"""Docs match the tree: every repository path a document (*.md) or a Python docstring names
exists. A path is a word with a '/' whose first part is a top-level entry of the repository and
whose last part is a file name or ends with '/' (`config/settings.py`, `ops/switch/`; a module's
attribute may follow: `ops/switch/rollback.rollback_to`), or a module a package README names
by its bare name (`settings.py` in config/README.md: a file of that package)."""
from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
_WORD = re.compile(r"[A-Za-z0-9_.][A-Za-z0-9_./-]*")
_MODULE = re.compile(r"[A-Za-z0-9_]+\.py$")


def tracked() -> list[Path]:
    out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO,
                         capture_output=True, text=True, check=True).stdout
    return [REPO / line for line in out.splitlines() if (REPO / line).exists()]


def top_level(files: list[Path]) -> set[str]:
    return {f.relative_to(REPO).parts[0] for f in files}


def docstrings(path: Path, text: str) -> str:
    tree = ast.parse(text, str(path))
    nodes = [tree, *(n for n in ast.walk(tree)
                     if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)))]
    return "\n".join(ast.get_docstring(n) or "" for n in nodes)


def named_paths(text: str, tops: set[str]) -> set[str]:
    """Words of `text` that name a path under a top-level entry (a glob, a placeholder, a URL
    or a path outside the repository is not one)."""
    found = set()
    for word in _WORD.findall(text):
        word = word.rstrip(".,:;")
        head, _, last = word.rpartition("/")
        if (head and word.split("/", 1)[0] in tops and (not last or "." in last)
                and not re.search(r"[<>*{}]|\.\.", word)):
            found.add(word)
    return found


def _exists(word: str) -> bool:
    """The path, or a module of it followed by one of its names (`rollback.rollback_to`)."""
    module = word.rsplit(".", 1)[0]
    return (REPO / word).exists() or (REPO / f"{module}.py").is_file()


def missing_paths(files: list[Path], read=Path.read_text) -> list[str]:
    tops = top_level(files) - {"README.md", "VERSION"}
    missing = []
    for path in files:
        if path.suffix == ".md":
            text = read(path)
        elif path.suffix == ".py" and path.relative_to(REPO).parts[0] != "tests":
            text = docstrings(path, read(path))
        else:
            continue
        for word in sorted(named_paths(text, tops)):
            if not _exists(word):
                missing.append(f"{path.relative_to(REPO)} names {word}")
        if path.name == "README.md" and path.parent == REPO:
            continue
        for word in sorted({w.rstrip(".,:;") for w in _WORD.findall(text)}):
            if _MODULE.fullmatch(word) and not _exists_near(path.parent, word):
                missing.append(f"{path.relative_to(REPO)} names {word}")
    return missing


def _exists_near(folder: Path, name: str) -> bool:
    """A module named by its bare name: in the folder of the file naming it (or below), or at
    the top of the repository (`__main__.py`)."""
    return (REPO / name).is_file() or any(folder.rglob(name))


def test_every_path_a_doc_or_docstring_names_exists():
    assert missing_paths(tracked()) == []


def test_the_check_finds_a_planted_path():
    doc = REPO / "config" / "README.md"
    planted = doc.read_text() + "\nSee `config/no_such_module.py` and `vanished.py`.\n"
    found = missing_paths([doc], read=lambda p: planted)
    assert found == ["config/README.md names config/no_such_module.py",
                     "config/README.md names vanished.py"]
