"""The Prisma schema reader and the document validator (pure: no database)."""
import datetime as dt

import pytest
from bson import ObjectId

from migration.engine.errors import ConfigError
from migration.engine.validation.schema import parse_schema
from migration.engine.validation.validator import Validator

SCHEMA = '''
// comment line
datasource db {
  provider = "mongodb"
  url      = env("DATABASE_URL")
}

enum Kind {
  user
  anonymous
}

type Perms {
  canSend Boolean @default(true)
  note    String? // "trailing // comment"
}

model Account {
  id       String   @id @default(auto()) @map("_id") @db.ObjectId
  email    String   @unique
  website  String   @default("http://example.org")
  kind     Kind
  ownerId  String?  @db.ObjectId
  tags     String[]
  perms    Perms
  history  Perms[]
  count    Int
  ratio    Float?
  data     Json?
  blob     Bytes?
  seenAt   DateTime @map("seen_at")
  owner    Owner?   @relation(fields: [ownerId], references: [id])

  @@unique([kind, email], map: "kind_email")
  @@index([seenAt(sort: Desc), count])
  @@map("accounts")
}

model Owner {
  id       String    @id @default(auto()) @map("_id") @db.ObjectId
  accounts Account[]
}
'''


@pytest.fixture
def schema():
    return parse_schema(SCHEMA)


def good_doc(**changes):
    doc = {"_id": ObjectId(), "email": "a@b", "website": "x", "kind": "user", "tags": [],
           "perms": {"canSend": True}, "history": [], "count": 3,
           "seen_at": dt.datetime(2024, 1, 1)}
    doc.update(changes)
    return doc


def test_models_types_enums_and_mapping(schema):
    account = schema.model_for_collection("accounts")
    assert account is not None and account.name == "Account"
    assert schema.model_for_collection("Account") is None  # @@map renames the collection
    assert set(account.fields) == {"_id", "email", "website", "kind", "ownerId", "tags", "perms",
                                   "history", "count", "ratio", "data", "blob", "seen_at"}
    assert account.fields["_id"].object_id and account.fields["_id"].is_id
    assert account.fields["website"].default == '"http://example.org"'
    assert account.fields["tags"].is_list and not account.fields["tags"].optional
    assert schema.enums["Kind"] == {"user", "anonymous"}
    assert set(schema.types["Perms"].fields) == {"canSend", "note"}
    assert "accounts" not in schema.models["Owner"].fields  # relation list: not stored


def test_indexes_and_uniques_have_prismas_names(schema):
    # Prisma names an index after the collection (@@map) and the stored field names (@map).
    indexes = {i.name: i for i in schema.model_for_collection("accounts").indexes}
    assert set(indexes) == {"accounts_email_key", "kind_email", "accounts_seen_at_count_idx"}
    assert indexes["accounts_email_key"].keys == (("email", 1),)
    assert indexes["accounts_email_key"].unique
    assert indexes["kind_email"].keys == (("kind", 1), ("email", 1))
    assert indexes["kind_email"].unique
    assert indexes["accounts_seen_at_count_idx"].keys == (("seen_at", -1), ("count", 1))
    assert not indexes["accounts_seen_at_count_idx"].unique


def test_a_unique_selector_name_is_not_the_index_name_and_map_is():
    schema = parse_schema('''
model Pair {
  id    String @id @default(auto()) @map("_id") @db.ObjectId
  left  String @map("l")
  right String
  code  String @unique(map: "pair_code")
  @@unique([left, right], name: "left_right")
  @@index([right], map: "by_right")
}
''')
    indexes = {i.name: i.keys for i in schema.models["Pair"].indexes}
    assert indexes == {"pair_code": (("code", 1),), "Pair_l_right_key": (("l", 1), ("right", 1)),
                       "by_right": (("right", 1),)}


def test_a_long_default_index_name_is_cut_like_prismas_mongodb_connector():
    fields = "\n".join(f"  field{i:02d}WithAVeryLongName String" for i in range(8))
    schema = parse_schema(f'''
model Long {{
  id String @id @default(auto()) @map("_id") @db.ObjectId
{fields}
  @@index([{", ".join(f"field{i:02d}WithAVeryLongName" for i in range(8))}])
}}
''')
    (index,) = schema.models["Long"].indexes
    assert len(index.name) == 127 and index.name.endswith("_idx")
    assert index.name.startswith("Long_field00WithAVeryLongName_field01")


def test_a_complete_document_is_valid(schema):
    assert Validator(schema).errors("accounts", good_doc()) == []
    assert Validator(schema).errors("accounts", good_doc(ratio=2, data={"a": [1]},
                                                         ownerId=None, blob=b"x")) == []


@pytest.mark.parametrize("changes, expected", [
    ({"extra": 1}, "accounts.extra: field not declared by Account"),
    ({"kind": "MODO"}, "accounts.kind: the string 'MODO' is not a value of enum Kind"),
    ({"count": "3"}, "accounts.count: expected an integer, found the string '3'"),
    ({"count": True}, "accounts.count: expected an integer, found a bool"),
    ({"ownerId": "6561f0a1b2c3d4e5f6a7b8c9"}, "accounts.ownerId: expected an ObjectId"),
    ({"seen_at": "2024-01-01"}, "accounts.seen_at: expected a date"),
    ({"tags": "a"}, "accounts.tags: expected a list"),
    ({"tags": ["a", 2]}, "accounts.tags[1]: expected a string"),
    ({"perms": {"canSend": 1}}, "accounts.perms.canSend: expected a boolean"),
    ({"perms": {}}, "accounts.perms.canSend: missing required field"),
    ({"history": [{"canSend": True, "oops": 1}]}, "accounts.history[0].oops: field not declared"),
    ({"email": None}, "accounts.email: required field is null"),
])
def test_each_kind_of_violation_names_the_field(schema, changes, expected):
    errors = Validator(schema).errors("accounts", good_doc(**changes))
    assert any(e.startswith(expected) for e in errors), errors


def test_missing_required_field(schema):
    doc = good_doc()
    del doc["seen_at"]
    assert Validator(schema).errors("accounts", doc) == ["accounts.seen_at: missing required field"]


def test_unknown_collection_is_reported(schema):
    assert "no model" in Validator(schema).errors("nope", {"_id": 1})[0]


@pytest.mark.parametrize("text, message", [
    ("model A {\n  id String @id\n", "never closed"),
    ("model A {\n  x Nope\n}\n", "unknown type 'Nope'"),
    ("model A {\n  id String @id\n  @@index([missing])\n}\n", "no field 'missing'"),
    ("garbage here\n", "expected a block"),
])
def test_schema_errors_are_config_errors(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_schema(text, "x.prisma")


def test_the_meeshy_schema_parses():
    from pathlib import Path
    schema = parse_schema(Path("migration/meeshy/schema.prisma").read_text())
    assert schema.model_for_collection("Participant") is not None
    assert any(i.unique for i in schema.model_for_collection("Participant").indexes)
