"""The mongodump archive reader and the backup runner, on archives built to the format's spec."""
from __future__ import annotations

import gzip
import json
import struct
import sys

import bson
import pytest
from bson import ObjectId

from steps import archive
from steps.backup_manifest import archive_contents, describe, manifest_path
from steps.backup_run import apply_retention, archive_name, take_backup
from steps.backup_run import main as backup_main
from steps.digest import DigestBuilder, compare, digest_ordered

TERM = b"\xff\xff\xff\xff"


def build_archive(namespaces: dict[str, list[dict]], *, db="meeshy", interleave=True,
                  drop_eof_of: str | None = None, truncate: int = 0) -> bytes:
    out = [struct.pack("<I", archive.MAGIC),
           bson.encode({"concurrent_collections": 4, "version": "0.1",
                        "server_version": "7.0.42", "tool_version": "test"})]
    for name in namespaces:
        meta = {"indexes": [{"v": 2, "key": {"_id": 1}, "name": "_id_"},
                            {"v": 2, "key": {"n": 1}, "name": f"{name}_n", "unique": True}]}
        out.append(bson.encode({"db": db, "collection": name, "metadata": json.dumps(meta), "size": 1}))
    out.append(TERM)
    segments = []
    for name, docs in namespaces.items():
        for doc in docs:   # one document per segment: the most interleaved form the spec allows
            segments.append(bson.encode({"db": db, "collection": name, "EOF": False, "CRC": 0})
                            + bson.encode(doc) + TERM)
    if interleave:
        segments = segments[::2] + segments[1::2]
    out.extend(segments)
    for name in namespaces:
        if name != drop_eof_of:
            out.append(bson.encode({"db": db, "collection": name, "EOF": True, "CRC": 0}) + TERM)
    data = b"".join(out)
    return gzip.compress(data[:-truncate] if truncate else data)


def docs(n, **extra):
    return [{"_id": ObjectId(f"{i + 1:024x}"), "n": i, **extra} for i in range(n)]


def write(tmp_path, data, name="a.archive.gz"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_counts_and_hashes_equal_the_documents_in_id_order(tmp_path):
    users, messages = docs(5, kind="user"), docs(3, kind="message")
    path = write(tmp_path, build_archive({"User": users, "Message": messages, "Empty": []}))
    contents = archive_contents(path)
    assert contents["User"] == digest_ordered(bson.encode(d) for d in users).as_dict()
    assert contents["Message"]["count"] == 3 and contents["Empty"]["count"] == 0
    shuffled = DigestBuilder()
    for doc in reversed(users):
        shuffled.add(bson.encode(doc))
    assert shuffled.result().as_dict() == contents["User"]


def test_prelude_gives_index_definitions(tmp_path):
    path = write(tmp_path, build_archive({"User": docs(1)}))
    [namespace] = archive.read_prelude(path)
    assert (namespace.database, namespace.collection) == ("meeshy", "User")
    assert namespace.indexes[1] == {"v": 2, "key": {"n": 1}, "name": "User_n", "unique": True}


def test_describe_reports_sha256_size_and_total(tmp_path):
    path = write(tmp_path, build_archive({"User": docs(4)}))
    manifest = describe(path, "meeshy")
    import hashlib
    assert manifest["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert manifest["sizeBytes"] == path.stat().st_size and manifest["documents"] == 4


@pytest.mark.parametrize("damage, message", [
    ({"truncate": 3}, "truncated"),
    ({"drop_eof_of": "Message"}, "incomplete, no end marker for ['Message']"),
])
def test_damaged_archives_are_refused(tmp_path, damage, message):
    path = write(tmp_path, build_archive({"User": docs(2), "Message": docs(2)}, **damage))
    with pytest.raises(archive.ArchiveError, match=message.replace("[", r"\[").replace("]", r"\]")):
        archive_contents(path)


def test_not_an_archive(tmp_path):
    path = write(tmp_path, gzip.compress(b"\x00\x01\x02\x03hello"))
    with pytest.raises(archive.ArchiveError, match="bad magic number"):
        archive_contents(path)
    path = write(tmp_path, b"plain text, not gzip", "b.archive.gz")
    with pytest.raises(archive.ArchiveError, match="not a readable gzip archive"):
        archive_contents(path)


def test_compare_names_what_differs():
    a = {"User": {"count": 2, "hash": "x"}, "Message": {"count": 1, "hash": "y"},
         "E": {"count": 0, "hash": "z"}}
    b = {"User": {"count": 3, "hash": "x"}, "Message": {"count": 1, "hash": "w"}}
    assert compare(a, b) == ["Message: same count (1) but content hash differs",
                             "User: 3 documents, expected 2"]
    assert compare(a, dict(a)) == []


def _cat(path):
    return [sys.executable, "-c", f"import sys; sys.stdout.buffer.write(open({str(path)!r}, 'rb').read())"]


def test_take_backup_writes_archive_and_manifest_atomically(tmp_path):
    source = write(tmp_path, build_archive({"User": docs(3)}), "source.gz")
    manifest = take_backup(tmp_path / "backups", "production", "meeshy", "2026.02.0 rc/1", 5,
                           _cat(source), 30)
    archive_path = tmp_path / "backups" / "production" / "meeshy" / manifest["archive"].rsplit("/", 1)[1]
    assert archive_path.read_bytes() == source.read_bytes()
    assert manifest["backupId"].startswith("production/meeshy/")
    assert manifest["backupId"].endswith("-2026.02.0-rc-1")
    assert json.loads(manifest_path(archive_path).read_text())["sha256"] == manifest["sha256"]
    assert not list(archive_path.parent.glob("*.partial"))


def test_the_stored_manifest_is_given_only_while_the_archive_matches_it(tmp_path):
    from commands.steps import ExternalServer
    from ops.data_ops import DataOperationError, stored_manifest
    source = write(tmp_path, build_archive({"User": docs(3)}), "source.gz")
    manifest = take_backup(tmp_path / "b", "production", "meeshy", "r1", 5, _cat(source), 30)
    server = ExternalServer("mongodb://127.0.0.1:9")     # the commands run on this machine
    assert stored_manifest(server, manifest["archive"])["sha256"] == manifest["sha256"]
    with open(manifest["archive"], "r+b") as handle:    # one byte changed on the backup's disk
        handle.seek(10)
        byte = handle.read(1)
        handle.seek(10)
        handle.write(bytes([byte[0] ^ 1]))
    with pytest.raises(DataOperationError, match="does not match its manifest"):
        stored_manifest(server, manifest["archive"])


def test_failed_or_timed_out_dump_leaves_no_backup(tmp_path, capsys):
    folder = tmp_path / "b"
    failing = [sys.executable, "-c",
               "import sys; sys.stdout.write('half'); sys.stderr.write('boom'); sys.exit(4)"]
    assert backup_main(["--dir", str(folder), "--stack", "s", "--database", "d", "--label", "l",
                        "--", *failing]) == 1
    assert "dump exited with 4: boom" in capsys.readouterr().err
    slow = [sys.executable, "-c", "import time; time.sleep(30)"]
    assert backup_main(["--dir", str(folder), "--stack", "s", "--database", "d", "--label", "l",
                        "--timeout", "0.5", "--", *slow]) == 1
    assert "dump did not finish within 0.5 s" in capsys.readouterr().err
    assert list((folder / "s" / "d").iterdir()) == []


def test_unusable_archive_exits_3(tmp_path, capsys):
    bad = write(tmp_path, build_archive({"User": docs(2)}, drop_eof_of="User"), "bad.gz")
    assert backup_main(["--dir", str(tmp_path / "b"), "--stack", "s", "--database", "meeshy",
                        "--label", "l", "--", *_cat(bad)]) == 3
    assert "backup unusable" in capsys.readouterr().err
    assert list((tmp_path / "b" / "s" / "meeshy").iterdir()) == []


def test_retention_keeps_the_newest(tmp_path):
    import datetime as dt
    folder = tmp_path / "f"
    folder.mkdir()
    names = []
    for minute in range(5):
        name = archive_name("x", dt.datetime(2026, 1, 1, 0, minute, tzinfo=dt.timezone.utc))
        (folder / name).write_bytes(b"a")
        manifest_path(folder / name).write_text("{}")
        names.append(name)
    removed = apply_retention(folder, 2, folder / names[-1])
    assert removed == names[:3]
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [*names[3:], *(n + ".json" for n in names[3:])])


def test_usage_errors(capsys):
    assert backup_main(["--dir", "/tmp", "--stack", "s", "--database", "d", "--label", "l"]) == 2
    with pytest.raises(SystemExit):
        backup_main(["--dir", "/tmp", "--stack", "s", "--database", "d", "--label", "l",
                     "--retain", "0", "--", "true"])
