"""The real Meeshy chain through the command line, on a small generated legacy dataset."""
import json

import pytest
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument

from migration.meeshy.sample_data import insert_legacy_dataset
from tests.support.cli_runner import migration_cli
from tests.support.migration_helpers import fingerprint

SCALE = 0.05  # smaller scales make the generator loop looking for distinct readers


@pytest.fixture(scope="module")
def legacy(ferretdb):
    client = ferretdb.client()
    insert_legacy_dataset(client["meeshy_cli_legacy"], seed=1, scale=SCALE)
    yield client, ferretdb.uri("meeshy_cli_legacy")
    client.close()


def test_meeshy_chain_from_the_command_line(legacy, ferretdb, fresh_db, tmp_path):
    client, source_uri = legacy
    target_name = fresh_db("meeshy_target")
    target_uri = ferretdb.uri(target_name)
    source_before = fingerprint(client["meeshy_cli_legacy"])

    plan = migration_cli("plan", "--source", source_uri, "--target", target_uri, chain=None)
    assert plan.returncode == 0, plan.stdout[-3000:] + plan.stderr
    assert target_name not in client.list_database_names()

    run = migration_cli("run", "--source", source_uri, "--target", target_uri,
                        "--json", tmp_path / "run.json", chain=None)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr
    report = json.loads((tmp_path / "run.json").read_text())
    for entry in report["collections"].values():
        assert entry["documents"] == (entry["written"] + entry["merged"] +
                                      entry["quarantined"] + entry["dropped"])
    dropped = {e["source"] for e in report["collections"].values() if e["target"] is None}
    assert {"MessageReadStatus", "old_message_status", "MessageAttachment_backup_urls",
            "TypingIndicator"} <= dropped

    again = migration_cli("run", "--source", source_uri, "--target", target_uri,
                          "--json", tmp_path / "again.json", chain=None)
    second = json.loads((tmp_path / "again.json").read_text())
    assert again.returncode == 0
    assert sum(e["inserted"] + e["replaced"] + e["deleted"]
               for e in second["collections"].values()) == 0
    assert second["verification"]["hashes"] == report["verification"]["hashes"]
    assert fingerprint(client["meeshy_cli_legacy"]) == source_before

    tokens = [d["sessionToken"].encode() for d in
              client["meeshy_cli_legacy"].AnonymousParticipant.find({}, {"sessionToken": 1})
              if isinstance(d.get("sessionToken"), str)]
    raw_options = CodecOptions(document_class=RawBSONDocument)
    target = client[target_name]
    for name in target.list_collection_names():  # _quarantine included: secrets are redacted
        for doc in target.get_collection(name, codec_options=raw_options).find():
            assert not any(token in doc.raw for token in tokens), f"plain token in {name}"
