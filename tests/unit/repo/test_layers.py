"""Test support stays out of the product: no module outside tests/, testing/ and bench/ imports
the `testing` package (the takeover, the rehearsal and every verb run without it)."""
from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
SUPPORT = {"tests", "testing", "bench"}


def production_modules() -> list[Path]:
    return [p for p in REPO.rglob("*.py")
            if p.relative_to(REPO).parts[0] not in SUPPORT and ".git" not in p.parts
            and "__pycache__" not in p.parts]


def imported(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def test_no_production_module_imports_test_support():
    offenders = [f"{p.relative_to(REPO)} imports {m}" for p in production_modules()
                 for m in sorted(imported(p)) if m == "testing" or m.startswith("testing.")]
    assert offenders == []


def test_the_check_sees_an_import_inside_a_function(tmp_path):
    planted = tmp_path / "planted.py"
    planted.write_text("def f():\n    from testing.mock_pulumi import run_stack_file\n")
    assert "testing.mock_pulumi" in imported(planted)
