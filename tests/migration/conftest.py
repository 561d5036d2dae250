"""Fixtures the migration suites share."""
import pytest

from tests.support import toy_chain


@pytest.fixture
def toy_dbs(ferretdb, fresh_db):
    """(client, source, target, source URI, target URI): a small toy source, an unused target."""
    client = ferretdb.client()
    source, target = client[fresh_db("src")], client[fresh_db("tgt")]
    toy_chain.make_source(source, people=12)
    yield client, source, target, ferretdb.uri(source.name), ferretdb.uri(target.name)
    client.close()
