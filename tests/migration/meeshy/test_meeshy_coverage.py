"""No silent loss on FerretDB: the fields a first, hand-written migration
lost make `plan` fail, naming the collection, the field and a document."""
import pytest

from migration.engine import api
from migration.engine.chain import load_chain
from migration.engine.validation.schema import load_schema
from migration.engine.validation.validator import Validator
from testing.legacy.hand_built import (
    at,
    insert_documents,
    legacy_conversation,
    legacy_message,
    legacy_translation,
    legacy_user,
    oid,
)


def meeshy_plan(db):
    chain = load_chain("migration.meeshy")
    return api.plan(db, chain, Validator(load_schema(chain.schema_path)))


@pytest.fixture
def source(ferretdb, fresh_db):
    client = ferretdb.client()
    db = client[fresh_db("meeshy_cov")]
    insert_documents(db, {"User": [legacy_user(oid(1))], "Conversation": [legacy_conversation(oid(100))],
                          "Message": [legacy_message(oid(50), oid(100), oid(1))]})
    yield db
    client.close()


def test_clean_legacy_data_plans_without_problems(source):
    assert meeshy_plan(source)["problems"] == []


@pytest.mark.parametrize("collection, document, field", [
    ("Message", legacy_message(oid(51), oid(100), oid(1), status="sent"), "status"),
    ("MessageTranslation", legacy_translation(oid(60), oid(50), "en", "hi", translatedText="hi"),
     "translatedText"),
    ("Mention", {"_id": oid(70), "messageId": oid(50), "userId": oid(1), "mentionedAt": at(1)}, "userId"),
    ("Community", {"_id": oid(80), "identifier": "c", "name": "C", "isPublic": True, "createdBy": oid(1),
                   "createdAt": at(0), "updatedAt": at(0)}, "isPublic"),
])
def test_a_field_no_rule_maps_or_drops_fails_plan(source, collection, document, field):
    source[collection].insert_one(document)
    report = meeshy_plan(source)
    assert not report["ok"]
    assert report["problems"] == [f"source field {collection}.{field} (e.g. in document {document['_id']}) "
                                  f"is neither mapped nor dropped by its rule"]


def test_an_unknown_collection_fails_plan(source):
    source["LegacyDrafts"].insert_one({"_id": oid(90), "text": "draft"})
    report = meeshy_plan(source)
    assert report["problems"] == [
        "source collection LegacyDrafts is neither migrated nor dropped by any rule of the chain"]
