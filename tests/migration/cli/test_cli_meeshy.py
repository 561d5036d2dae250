"""The real Meeshy chain through the command line, on a small generated legacy dataset."""
import json

import pytest
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument

from legacy_data.dataset import insert_legacy_dataset
from tests.support.cli_runner import migration_cli
from tests.support.migration_helpers import fingerprint

# The migration's writes, reads and verification on both servers (tests/conftest.py).
pytestmark = pytest.mark.servers("ferretdb", "documentdb")

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
    assert report["collections"]["user_conversation_preferences"]["merged"] == 1  # the generated duplicate
    dropped = {e["source"] for e in report["collections"].values() if e["target"] is None}
    assert {"Notification", "old_message_status", "MessageAttachment_backup_urls",
            "TypingIndicator"} <= dropped  # Notification by the operators' decision

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


def without_models(text: str, names) -> str:
    """The schema text of a release without the models `names`: their blocks and the relation
    fields of other models pointing at them removed."""
    out, skipping = [], False
    for line in text.splitlines(keepends=True):
        if any(line.startswith(f"model {name} {{") for name in names):
            skipping = True
        words = line.split()
        relation = len(words) > 1 and words[1].rstrip("[]?") in names
        if not skipping and not relation:
            out.append(line)
        elif line.startswith("}"):
            skipping = False
    return "".join(out)


def test_plan_with_a_schema_missing_models_lists_every_problem_and_exits_2(legacy, ferretdb, fresh_db,
                                                                            tmp_path):
    from migration.meeshy import SCHEMA_PATH
    _, source_uri = legacy
    schema = tmp_path / "older.prisma"
    schema.write_text(without_models(SCHEMA_PATH.read_text(), ("Participant", "Mention", "UserPreference")))
    result = migration_cli("plan", "--source", source_uri, "--target", ferretdb.uri(fresh_db("t")),
                           "--schema", schema, chain=None)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    listed = [line for line in result.stderr.splitlines() if line.strip().startswith("- ")]
    # Every rule writing a Participant (itself or alongside), the Mention rule, both UserPreference ones.
    for source in ("ConversationMember", "AnonymousParticipant", "Message", "MessageStatus", "Reaction",
                   "Mention", "call_participants", "TrackingLinkClick", "ConversationReadCursor"):
        assert any(f"rule for {source!r}" in line and "'Participant'" in line for line in listed) \
            or (source == "Mention" and any("'Mention'" in line for line in listed)), source
    assert sum("'user_preference'" in line for line in listed) == 2
