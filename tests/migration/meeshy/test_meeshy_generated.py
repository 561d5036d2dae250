"""The Meeshy chain on a generated legacy database (every real-data defect) on FerretDB:
verified, accounted, idempotent, the source untouched, and a delta run equal to a fresh one."""
import re

import pytest

from legacy_data.dataset import expected_counts, insert_legacy_dataset
from migration.engine import api
from migration.engine.chain import load_chain
from migration.engine.validation.schema import load_schema
from migration.engine.validation.validator import Validator
from migration.engine.verification.verify import content_hash
from migration.meeshy import SCHEMA_PATH
from migration.meeshy.coerce import model
from migration.meeshy.explicit_nulls import EXPLICIT_NULLS
from testing.legacy.hand_built import at, legacy_translation, oid

SCALE, SEED = 0.02, 5
# Meeshy's target schema as the repository carries it (tests/unit/migration/
# test_meeshy_schema_copy.py checks it byte for byte against Meeshy's own file where that is).
REAL_TARGET = SCHEMA_PATH
ISO_MILLIS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")  # JavaScript's toISOString()


def meeshy():
    chain = load_chain("migration.meeshy")
    return chain, Validator(load_schema(chain.schema_path))


def run(source, target):
    chain, validator = meeshy()
    return api.run(source, target, chain, validator, batch_size=200)


def data_hashes(db) -> dict:
    return {name: content_hash(db[name]) for name in sorted(db.list_collection_names())
            if not name.startswith("_migrations")}


def fingerprint(db) -> dict:
    return {name: content_hash(db[name]) for name in sorted(db.list_collection_names())}


@pytest.fixture
def source(ferretdb, fresh_db):
    client = ferretdb.client()
    db = client[fresh_db("meeshy_src")]
    insert_legacy_dataset(db, SEED, SCALE, batch_size=500)
    yield db
    client.close()


def test_generated_database_migrates_verified_and_accounted(source, fresh_db):
    target = source.client[fresh_db("meeshy_tgt")]
    before = fingerprint(source)
    report = run(source, target)
    assert report["ok"], report["verification"]["problems"]
    assert fingerprint(source) == before
    counts = expected_counts(SEED, SCALE)
    for name, entry in report["collections"].items():
        assert entry["documents"] == counts.get(name, 0) == (
            entry["written"] + entry["merged"] + entry["quarantined"] + entry["dropped"]), name
    assert report["collections"]["ConversationMember"]["merged"] > 0
    assert report["collections"]["MessageTranslation"]["merged"] > 0
    # the duplicate preference of one user for one conversation (generated from two documents on),
    # merged into the latest edit
    duplicates = 1 if counts["user_conversation_preferences"] > 1 else 0
    assert report["collections"]["user_conversation_preferences"]["merged"] == duplicates
    assert_explicit_nulls_and_string_translation_dates(target)
    tokens = [a["sessionToken"] for a in source.AnonymousParticipant.find()]
    for name in target.list_collection_names():
        for doc in target[name].find(batch_size=1000):
            assert not any(t in repr(doc) for t in tokens), name


def assert_explicit_nulls_and_string_translation_dates(target):
    """What the real gateway needs (tests/e2e/test_real_gateway.py): every field it filters with
    `null` is present on every document (Prisma matches `null` only where it is written), and
    the translations' dates are ISO strings, as it writes them."""
    for model_name, fields in EXPLICIT_NULLS.items():
        collection = target[model(model_name).collection]
        assert collection.count_documents({}) > 0, model_name
        for field in fields:
            assert collection.count_documents({field: {"$exists": False}}) == 0, (model_name, field)
    translated = 0
    for message in target.Message.find({"translations": {"$type": "object"}}, {"translations": 1}):
        for entry in message["translations"].values():
            translated += 1
            assert all(ISO_MILLIS.fullmatch(entry[f]) for f in ("createdAt", "updatedAt")), entry
    assert translated > 0


def test_plan_accepts_every_generated_field_and_writes_nothing(source, fresh_db):
    chain, validator = meeshy()
    client = source.client
    before = {name: fingerprint(client[name]) for name in client.list_database_names()}
    report = api.plan(source, chain, validator, batch_size=200)
    assert report["ok"]
    assert {name: fingerprint(client[name]) for name in client.list_database_names()} == before


def test_second_run_writes_nothing_and_hashes_are_stable(source, fresh_db):
    target = source.client[fresh_db("meeshy_tgt")]
    first = run(source, target)
    hashes = data_hashes(target)
    second = run(source, target)
    assert second["ok"]
    assert sum(e["inserted"] + e["replaced"] + e["deleted"] for e in second["collections"].values()) == 0
    assert data_hashes(target) == hashes
    assert first["verification"]["hashes"] == second["verification"]["hashes"]


def test_delta_run_equals_a_fresh_full_migration(source, fresh_db):
    client = source.client
    target = client[fresh_db("meeshy_tgt")]
    run(source, target)
    # Remove the surviving copy of a duplicated membership, retranslate a message, delete a
    # message with statuses, rename a user and add a notification.
    pairs = {}
    for member in source.ConversationMember.find(sort=[("_id", 1)]):
        pairs.setdefault((str(member["conversationId"]), str(member["userId"])), []).append(member["_id"])
    survivor = next(ids[0] for ids in pairs.values() if len(ids) > 1)
    source.ConversationMember.delete_one({"_id": survivor})
    message = source.Message.find_one({"senderId": {"$exists": True}, "isDeleted": False}, sort=[("_id", 1)])
    source.MessageTranslation.insert_one(
        legacy_translation(oid(990001), message["_id"], "xx", "new", updatedAt=at(10**6)))
    read = source.MessageStatus.find_one({"messageId": {"$type": "objectId"}}, sort=[("_id", -1)])
    source.Message.delete_one({"_id": read["messageId"]})
    source.User.update_one({}, {"$set": {"displayName": "Renamed"}})
    source.Notification.insert_one({"_id": oid(990002), "userId": oid(1), "type": "t", "content": "c",
                                    "data": "not json", "createdAt": at(1)})
    delta = run(source, target)
    assert delta["ok"], delta["verification"]["problems"]
    fresh = client[fresh_db("meeshy_fresh")]
    full = run(source, fresh)
    assert data_hashes(target) == data_hashes(fresh)
    assert delta["verification"]["hashes"] == full["verification"]["hashes"]
    changed = sum(e["inserted"] + e["replaced"] + e["deleted"] for e in delta["collections"].values())
    assert 0 < changed < sum(e["inserted"] for e in full["collections"].values()) / 4


def test_every_migrated_document_validates_against_meeshys_own_target(source, fresh_db):
    target = source.client[fresh_db("meeshy_tgt")]
    report = run(source, target)
    assert report["ok"]
    real = Validator(load_schema(REAL_TARGET))
    checked = 0
    for name in target.list_collection_names():
        if name.startswith("_"):
            continue  # the migration's own bookkeeping (_migrations, _quarantine, ledgers)
        assert real.has_collection(name), name
        for doc in target[name].find(batch_size=1000):
            assert real.errors(name, doc) == [], (name, doc["_id"])
            checked += 1
    assert checked >= sum(e["written"] for e in report["collections"].values()) > 0
    # Every index and unique of all 85 models, under Prisma's names, models without data too.
    declared = [(m.collection, i) for m in real.schema.models.values() for i in m.indexes]
    assert len(real.schema.models) == 85 and len(declared) == 270
    for collection, index in declared:
        info = target[collection].index_information().get(index.name)
        assert info is not None, (collection, index.name)
        assert [tuple(k) for k in info["key"]] == [tuple(k) for k in index.keys], index.name
        assert bool(info.get("unique")) == index.unique, index.name
    assert report["verification"]["indexes"] == {"declared": 270, "present": 270}
