"""Describes one backup archive: sha256, size, and per-collection counts and content digests.

`python -m steps.backup_manifest ARCHIVE` prints the manifest as JSON. The MongoBackup component
runs steps.backup_run, which writes the same manifest beside the archive and prints it; its
fields become the component's outputs.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import defaultdict
from pathlib import Path

from steps import archive
from steps.digest import ALGORITHM, DigestBuilder

MANIFEST_SUFFIX = ".json"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def archive_contents(path: Path, database: str | None = None) -> dict[str, dict]:
    """{collection: {count, hash}} of the documents inside the archive (one database).

    Raises ArchiveError when a declared collection never reached its EOF marker: such an
    archive was cut short and cannot be trusted for a restore.
    """
    declared = archive.read_prelude(path)
    databases = {ns.database for ns in declared}
    if database is None and len(databases) > 1:
        raise archive.ArchiveError(f"{path}: holds several databases {sorted(databases)}; name one")
    builders: dict[str, DigestBuilder] = defaultdict(DigestBuilder)
    finished = set()
    for db, collection, raw in archive.iter_archive(path):
        if database is not None and db != database:
            continue
        if raw is None:
            finished.add(collection)
        else:
            builders[collection].add(raw)
    wanted = [ns.collection for ns in declared if database is None or ns.database == database]
    missing = sorted(set(wanted) - finished)
    if missing:
        raise archive.ArchiveError(f"{path}: incomplete, no end marker for {missing}")
    return {name: builders[name].result().as_dict() for name in sorted(wanted)}


def describe(path: Path, database: str | None = None) -> dict:
    collections = archive_contents(path, database)
    return {
        "archive": str(path),
        "sha256": file_sha256(path),
        "sizeBytes": path.stat().st_size,
        "collections": collections,
        "documents": sum(item["count"] for item in collections.values()),
        "hashAlgorithm": ALGORITHM,
    }


def manifest_path(archive_path: Path) -> Path:
    return archive_path.with_name(archive_path.name + MANIFEST_SUFFIX)


def load_manifest(archive_path: str | Path) -> dict:
    path = manifest_path(Path(archive_path))
    if not path.is_file():
        raise FileNotFoundError(f"no manifest beside backup archive {archive_path} (expected {path})")
    return json.loads(path.read_text())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m steps.backup_manifest", description=__doc__)
    parser.add_argument("archive", type=Path)
    parser.add_argument("--database", help="only this database's collections")
    args = parser.parse_args(argv)
    if not args.archive.is_file():
        parser.error(f"archive not found: {args.archive}")
    try:
        print(json.dumps(describe(args.archive, args.database), indent=2, sort_keys=True))
    except archive.ArchiveError as error:
        print(f"error: {error}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
