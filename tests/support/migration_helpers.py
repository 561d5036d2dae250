"""Helpers shared by the migration test suites: run the engine on the toy chain, fingerprint
whole databases (to prove something was or was not written)."""
from __future__ import annotations

from migration.engine import api
from migration.engine.chain import check_chain
from migration.engine.validation.schema import load_schema
from migration.engine.validation.validator import Validator
from migration.engine.verification.verify import content_hash
from tests.support import toy_chain

DATA_COLLECTIONS = ("Person", "Squad", "Member", "Post", "_quarantine")


def toy():
    chain = check_chain(toy_chain.CHAIN)
    return chain, Validator(load_schema(toy_chain.SCHEMA_PATH))


def fingerprint(db) -> dict:
    """Content hash of every collection of a database (bookkeeping included)."""
    return {name: content_hash(db[name]) for name in sorted(db.list_collection_names())}


def data_hashes(db) -> dict:
    return {name: content_hash(db[name]) for name in DATA_COLLECTIONS}


def run_toy(source_db, target_db, batch_size=5, to=None) -> dict:
    chain, validator = toy()
    return api.run(source_db, target_db, chain, validator, to=to, batch_size=batch_size)


def writes(report) -> int:
    return sum(e["inserted"] + e["replaced"] + e["deleted"]
               for e in report["collections"].values())
