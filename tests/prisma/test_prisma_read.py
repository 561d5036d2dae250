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
