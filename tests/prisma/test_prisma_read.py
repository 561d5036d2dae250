"""Meeshy's own ORM on the migrated data, on FerretDB: Prisma Client 6.19 (the gateway's),
generated from the target schema with the query engine built here, reads every document of the
generated legacy dataset migrated with the operators' decisions, and with notifications=migrate,
refusing none; each planted fault is refused naming model, field and Prisma's error code, and
a read restricted to some models reads only those."""
import json

import pytest

from legacy_data.dataset import insert_legacy_dataset
from migration.engine import api
from migration.engine.chain import load_chain
from migration.engine.target.ledger import token_id
from migration.engine.validation.schema import load_schema
from migration.engine.validation.validator import Validator
from migration.meeshy import SCHEMA_PATH
from testing.prisma import FAULTS, PrismaUnavailable, generate_client, plant, read_database

SEED, SCALE = 5, 0.02
TARGETS = {"decided": None, "notifications": {"notifications": "migrate"}}


@pytest.fixture(scope="module")
def client_dir():
    try:
        return generate_client(SCHEMA_PATH)
    except PrismaUnavailable as error:
        pytest.fail(f"{error} (tools/build-prisma.sh builds it)", pytrace=False)


@pytest.fixture(scope="module")
def migrated(ferretdb):
    """{label: database}: the legacy dataset migrated under each set of decisions."""
    client = ferretdb.client()
    source = client["prisma_legacy"]
    insert_legacy_dataset(source, SEED, SCALE, batch_size=500)
    for label, decisions in TARGETS.items():
        chain = load_chain("migration.meeshy", decisions)
        report = api.run(source, client[f"prisma_{label}"], chain,
                         Validator(load_schema(chain.schema_path)))
        assert report["ok"], report["verification"]["problems"]
    yield client
    client.close()


def stored(db) -> dict[str, int]:
    """Model -> documents stored in its collection."""
    schema = load_schema(SCHEMA_PATH)
    return {name: db[model.collection].count_documents({}) for name, model in schema.models.items()}


@pytest.mark.parametrize("label", sorted(TARGETS))
def test_every_migrated_document_is_read_and_none_refused(ferretdb, migrated, client_dir, label):
    db = migrated[f"prisma_{label}"]
    read = read_database(client_dir, ferretdb.uri(db.name))
    assert read.code == 0, read.stderr[-2000:]
    result = read.result
    assert result["prisma"].startswith("6.19."), result["prisma"]
    assert result["refused"] == 0 and result["refusals"] == [] and result["ok"] is True
    expected = stored(db)
    assert {name: model["read"] for name, model in result["models"].items()} == expected
    assert result["documents"] == sum(expected.values()) > 0
    if label == "notifications":
        assert result["models"]["Notification"]["read"] > 0


def test_each_planted_fault_is_refused_naming_model_and_field(ferretdb, migrated, client_dir):
    client = migrated
    faulty = client["prisma_faults"]
    for name in client["prisma_decided"].list_collection_names():
        docs = list(client["prisma_decided"][name].find())
        if docs:
            faulty[name].insert_many(docs)
    planted = {plant(faulty, kind, skip=index) for index, kind in enumerate(FAULTS)}
    read = read_database(client_dir, ferretdb.uri(faulty.name))
    assert read.code == 3, read.stderr[-2000:]
    refused = {(model, field) for model, field, _ in read.refused()}
    assert refused == planted, read.result["refusals"]
    assert read.result["refused"] == len(FAULTS)
    codes = {(r["model"], r["field"]): r["code"] for r in read.result["refusals"]}
    assert codes[("User", "username")] == "P2032"
    assert codes[("User", "failedLoginAttempts")] == codes[("Participant", "joinedAt")] == "P2023"
    assert codes[("User", "role")].endswith("value not in enum")
    assert codes[("Participant", "permissions")].endswith("composite missing or not a document")
    assert all(r["count"] == 1 for r in read.result["refusals"])
    for model, field in planted:
        assert f"model {model}: field {field} (" in read.stderr
    said = read.stderr + json.dumps(read.result)
    assert "EMPEROR" not in said and "2026-01-25T00:00:00Z" not in said, "a value was printed"
    others = stored(faulty)
    assert read.result["documents"] == sum(others.values()) - len(FAULTS)


def test_a_read_of_some_models_reads_only_those(ferretdb, migrated, client_dir):
    db = migrated["prisma_decided"]
    read = read_database(client_dir, ferretdb.uri(db.name), models=("User", "Participant"))
    assert read.code == 0, read.stderr[-2000:]
    assert set(read.result["models"]) == {"User", "Participant"}
    assert read.result["documents"] == db.User.count_documents({}) + \
        db.Participant.count_documents({})


def copy_database(client, source: str, to: str):
    for name in client[source].list_collection_names():
        docs = list(client[source][name].find())
        if docs:
            client[to][name].insert_many(docs)
    return client[to]


def test_a_read_scoped_to_a_delta_pass_reads_only_what_it_wrote(ferretdb, migrated, client_dir,
                                                               tmp_path):
    """The window's read: a delta pass after a few source edits lists what it wrote; the scoped
    read copies those documents aside, reads them there and drops the copy. A fault in a written
    document is refused; one in a document the delta left alone is not read."""
    client = migrated
    source = copy_database(client, "prisma_legacy", "prisma_scoped_legacy")
    target = copy_database(client, "prisma_decided", "prisma_scoped")
    edited = [doc["_id"] for doc in source.User.find({}, {"_id": 1}).sort("_id", 1).limit(3)]
    source.User.update_many({"_id": {"$in": edited}}, {"$set": {"firstName": "Edited"}})
    chain = load_chain("migration.meeshy", None)
    delta = api.run(source, target, chain, Validator(load_schema(chain.schema_path)))
    assert delta["ok"] and delta["written"]["complete"], delta["verification"]["problems"]
    written = delta["written"]["ids"]
    assert 3 <= sum(map(len, written.values())) < sum(stored(target).values()) / 10
    report = tmp_path / "delta.json"
    report.write_text(json.dumps({"written": delta["written"]}))
    target.User.update_one({"_id": token_id(written["User"][0])}, {"$set": {"role": "EMPEROR"}})
    left_alone = set(map(token_id, written.get("Participant", [])))
    untouched = next(d for d in target.Participant.find({}, {"_id": 1}) if d["_id"] not in left_alone)
    target.Participant.update_one({"_id": untouched["_id"]}, {"$unset": {"permissions": ""}})
    databases = set(client.list_database_names())

    read = read_database(client_dir, ferretdb.uri(target.name), written=report)
    assert read.code == 3, read.stderr[-2000:]
    collections = {model.collection for model in load_schema(SCHEMA_PATH).models.values()}
    copied = sum(len(ids) for name, ids in written.items() if name in collections)
    assert read.result["scope"] == {"kind": "written", "copied": copied}
    assert {(model, field) for model, field, _ in read.refused()} == {("User", "role")}
    assert read.result["documents"] + read.result["refused"] == read.result["scope"]["copied"]
    assert set(client.list_database_names()) == databases, "the scratch copy was left behind"

    report.write_text(json.dumps({"written": {"complete": False, "ids": {}}}))
    whole = read_database(client_dir, ferretdb.uri(target.name), written=report)
    assert whole.result["scope"]["kind"] == "database"
    assert "no complete set" in whole.result["scope"]["why"]
    assert {(model, field) for model, field, _ in whole.refused()} == {
        ("User", "role"), ("Participant", "permissions")}
