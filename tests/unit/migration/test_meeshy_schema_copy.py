"""The chain's target schema is Meeshy's own file, unchanged (the copy the repository carries,
so that a run never depends on a file outside it)."""
import pathlib

import pytest

from migration.meeshy import SCHEMA_PATH

REFERENCE = pathlib.Path(__file__).resolve().parents[4] / "shared/reference/meeshy/schema" \
    / "target-2026-08-22-11ba2be7b.prisma"


def test_the_schema_copy_is_byte_identical_to_meeshys_target():
    if not REFERENCE.is_file():
        pytest.skip(f"{REFERENCE} is absent: nothing to compare the copy with")
    assert SCHEMA_PATH.read_bytes() == REFERENCE.read_bytes()


def test_the_copy_carries_its_licence_notice():
    notice = SCHEMA_PATH.with_name("SCHEMA-LICENSE").read_text(encoding="utf-8")
    assert "MIT License" in notice and "Meeshy Contributors" in notice and SCHEMA_PATH.name in notice
