"""Lookups: a big one moves to a temporary SQLite file and answers exactly like the dict."""
import pytest
from bson import ObjectId

from migration.engine import Lookup, sources
from migration.engine.sources import build_lookup

# The migration's writes, reads and verification on both servers (tests/conftest.py).
pytestmark = pytest.mark.servers("ferretdb", "documentdb")


@pytest.fixture
def source(ferretdb, fresh_db):
    client = ferretdb.client()
    db = client[fresh_db("lookup")]
    ids = [ObjectId() for _ in range(60)]
    db.items.insert_many([{"_id": i, "group": n % 7, "ref": str(ids[(n * 5) % 60]), "n": n}
                          for n, i in enumerate(ids)])
    yield db, ids
    client.close()


def lookups():
    return [Lookup("by_id", "items", "_id", value="n"),
            Lookup("set", "items", "ref"),
            Lookup("first", "items", "group", value="n"),
            Lookup("groups", "items", ("group",), value=lambda d: (d["n"],),
                   combine=lambda a, b: a + b)]


@pytest.mark.parametrize("lookup", lookups(), ids=lambda lk: lk.name)
def test_spilled_lookup_equals_in_memory(source, monkeypatch, lookup):
    db, ids = source
    in_memory = build_lookup(db, lookup)
    monkeypatch.setattr(sources, "SPILL_AT", 3)
    spilled = build_lookup(db, lookup)
    assert spilled.spilled and not in_memory.spilled
    assert len(spilled) == len(in_memory)
    probes = ids + [str(i) for i in ids] + list(range(9)) + [(g,) for g in range(9)] + [None]
    for probe in probes:
        assert (probe in spilled) == (probe in in_memory)
        assert spilled.get(probe) == in_memory.get(probe)
    spilled.close()


def test_hex_string_keys_match_their_object_id(source):
    db, ids = source
    refs = build_lookup(db, Lookup("set", "items", "ref"))
    referenced = {ids[(n * 5) % 60] for n in range(60)}
    assert all(i in refs and str(i) in refs for i in referenced)
    assert not any(i in refs for i in set(ids) - referenced)
    assert len(refs) == len(referenced)
