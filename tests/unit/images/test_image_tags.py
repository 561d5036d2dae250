"""The stand-in and tools tags name their contents (tools/build-images.sh variant_ref): a checkout whose
files build another image lists another tag, so two branches testing on one engine never
replace each other's images; the same files list the same tags."""
from __future__ import annotations

import os
import pathlib
import shutil
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[3]
COPIED = ("tools/lib.sh", "tools/build-common.sh", "tools/build-images.sh", "tools/build-prisma.sh",
          "tools/prisma-generate.sh", "tools/prisma-engine", "images/debian-base", "images/standin",
          "images/tools", "migration", "steps", "VERSION", "tools/build-documentdb.sh",
          "tools/build-mongo-tools.sh", "tools/documentdb", "images/documentdb", "images/database",
          "tools/build-gateway-image.sh", "images/gateway")


def checkout(where: pathlib.Path) -> pathlib.Path:
    for name in COPIED:
        source, copy = ROOT / name, where / name
        copy.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, copy)
    return where


def listed(repo: pathlib.Path, tools_dir: pathlib.Path) -> dict[str, str]:
    done = subprocess.run(["bash", str(repo / "tools" / "build-images.sh"), "--list"], check=True,
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "MEESHY_TOOLS_DIR": str(tools_dir)})
    return dict(line.split(" ", 1) for line in done.stdout.splitlines())


def changed(before: dict[str, str], after: dict[str, str]) -> set[str]:
    return {key for key in before if before[key] != after[key]}


def test_a_tag_changes_exactly_when_what_its_image_is_built_from_changes(tmp_path):
    repo = checkout(tmp_path / "repo")
    before = listed(repo, tmp_path / "cache")
    assert listed(checkout(tmp_path / "other"), tmp_path / "cache") == before

    (repo / "steps/added.py").write_text("# another program in the tools image\n")
    tools = listed(repo, tmp_path / "cache")
    assert changed(before, tools) == {"tools"}

    with (repo / "tools/prisma-engine/mongodb-only.patch").open("a") as patch:
        patch.write("\n")
    engine = listed(repo, tmp_path / "cache")
    assert changed(tools, engine) == {"gateway", "gateway@legacy", "gateway@unhealthy", "gateway@meeshy"}

    with (repo / "migration/meeshy/schema.prisma").open("a") as schema:
        schema.write("\n// another release\n")
    schema = listed(repo, tmp_path / "cache")
    assert changed(engine, schema) == {"translator", "gateway", "web", "gateway@unhealthy", "tools"}

    (repo / "images/standin/added.txt").write_text("x\n")
    standin = listed(repo, tmp_path / "cache")
    assert changed(schema, standin) == {
        "translator", "gateway", "web", "translator@legacy", "gateway@legacy", "web@legacy",
        "gateway@unhealthy"}

    with (repo / "images/documentdb/docker-entrypoint.sh").open("a") as entrypoint:
        entrypoint.write("# another entrypoint\n")
    documentdb = listed(repo, tmp_path / "cache")
    assert changed(standin, documentdb) == {"mongo@documentdb"}

    with (repo / "tools/documentdb/gateway-one-listener.patch").open("a") as patch:
        patch.write("\n")
    patched = listed(repo, tmp_path / "cache")
    assert changed(documentdb, patched) == {"mongo@documentdb"}
    documentdb = patched

    (repo / "images/gateway/Dockerfile").write_text("# another recipe of the real gateway\n")
    assert changed(documentdb, listed(repo, tmp_path / "cache")) == {"gateway@meeshy"}
