"""`python -m migration validate`: a migrated target checked against a schema, as the release
does with the schema of the image it is about to start (on FerretDB; the same reads on MongoDB)."""
import json

import pytest

from legacy_data.dataset import insert_legacy_dataset
from tests.support.cli_runner import migration_cli
from tests.support.schema_variants import MISSING_FIELD, schema_requiring_a_new_field

SCALE = 0.05


@pytest.fixture(scope="module")
def migrated(ferretdb, tmp_path_factory):
    client = ferretdb.client()
    source, target = "meeshy_validate_legacy", "meeshy_validate_v2"
    for name in (source, target):
        client.drop_database(name)
    insert_legacy_dataset(client[source], seed=3, scale=SCALE)
    run = migration_cli("run", "--source", ferretdb.uri(source), "--target", ferretdb.uri(target),
                        chain=None, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr
    yield client, ferretdb.uri(target)
    for name in (source, target):
        client.drop_database(name)
    client.close()


def test_the_migrated_target_satisfies_the_schema_it_was_migrated_to(migrated, tmp_path):
    client, target_uri = migrated
    done = migration_cli("validate", "--target", target_uri, "--json", tmp_path / "ok.json",
                         chain=None)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    report = json.loads((tmp_path / "ok.json").read_text())
    assert report["ok"] is True and report["problems"] == []
    users = client["meeshy_validate_v2"].User.count_documents({})
    assert users > 0 and report["validated"]["User"] == {"documents": users, "invalid": 0}
    assert "_migrations" not in report["validated"]      # the migration's own bookkeeping
    assert report["summary"]["documents"] == sum(c["documents"] for c in report["validated"].values())


def test_a_schema_requiring_a_field_the_data_lacks_is_refused_naming_model_and_field(migrated, tmp_path):
    client, target_uri = migrated
    schema = tmp_path / "schema.prisma"
    schema.write_text(schema_requiring_a_new_field())
    done = migration_cli("validate", "--target", target_uri, "--schema", schema,
                         "--json", tmp_path / "bad.json", chain=None)
    assert done.returncode == 3, done.stdout[-3000:] + done.stderr
    users = client["meeshy_validate_v2"].User.count_documents({})
    expected = f"User.{MISSING_FIELD}: missing required field ({users} documents, e.g. _id "
    report = json.loads((tmp_path / "bad.json").read_text())
    assert report["ok"] is False and [p[:len(expected)] for p in report["problems"]] == [expected]
    assert report["validated"]["User"]["invalid"] == users
    assert expected in done.stdout    # the table says it too


def test_validate_refuses_a_missing_schema_file_before_reaching_the_server(tmp_path):
    done = migration_cli("validate", "--target", "mongodb://127.0.0.1:9/x",
                         "--schema", tmp_path / "absent.prisma", chain=None)
    assert done.returncode == 2 and "cannot read the schema file" in done.stderr
