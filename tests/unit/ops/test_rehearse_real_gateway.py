"""The rehearsal on Meeshy's own gateway: its stacks on DocumentDB with the gateway's keys in
secrets, and its posting users given logins (ops/rehearse/stacks.py, accounts.py)."""
from __future__ import annotations

from pathlib import Path

import bcrypt
import pytest
from bson import ObjectId

from config.services import gateway
from config.stack_file import ConfigDoc
from ops import built_images
from ops.rehearse import accounts
from ops.rehearse.engine import LOCAL, Engine
from ops.rehearse.real_gateway import real_images
from ops.rehearse.stacks import (
    GATEWAY_SECRET_ENV,
    edit_stack_file,
    generated_secrets,
    local_stack_settings,
    server_of,
)

FERRET = {key: f"meeshy-local/{key}:1" for key in
          ("traefik", "redis", "translator", "gateway", "web", "static", "maintenance")}
FERRET.update(mongo="meeshy-local/database:ferretdb-1.24.2", tools="meeshy-local/tools:1")
DOCUMENTDB = {**FERRET, "mongo": "meeshy-local/database:documentdb-0.106.0-abc"}


def settings(images):
    return local_stack_settings(images, {"http": 1, "https": 2, "database": 3}, Path("/b"),
                                domain="d.localhost", release="r1")


def test_a_documentdb_stack_names_its_server_and_the_gateways_keys():
    values = settings(DOCUMENTDB)
    assert server_of(DOCUMENTDB) == "documentdb"
    assert values["meeshy:database"]["server"] == "documentdb"
    assert values["meeshy:services"]["gateway"]["secretEnv"] == GATEWAY_SECRET_ENV


def test_a_ferretdb_stack_is_as_before():
    values = settings(FERRET)
    assert "server" not in values["meeshy:database"] and "meeshy:services" not in values


def test_the_generated_keys_are_what_meeshys_gateway_starts_with():
    values = generated_secrets("documentdb")
    checks = gateway.SPEC.secret_env_checks
    for variable, entry in GATEWAY_SECRET_ENV.items():
        assert checks[variable](values[f"meeshy:serviceSecrets.{entry}"]) is None, variable
    assert len(values["meeshy:databasePassword"]) >= 8
    assert not any(key.startswith("meeshy:serviceSecrets") for key in generated_secrets("ferretdb"))


def test_an_edit_keeps_secrets_set_by_path(tmp_path: Path):
    path = tmp_path / "Pulumi.r.yaml"
    ConfigDoc({"encryptionsalt": "v1:s"}, {
        "meeshy:jwtSecret": {"secure": "v1:a"},
        "meeshy:serviceSecrets": {"turnSecret": {"secure": "v1:b"}},
        "meeshy:services": {"gateway": {"env": {"A": "1"}}}}).write(path)
    edit_stack_file(path, {"meeshy:release": "r2"})
    kept = ConfigDoc.read(path).config
    assert kept["meeshy:serviceSecrets"] == {"turnSecret": {"secure": "v1:b"}}
    assert kept["meeshy:jwtSecret"] == {"secure": "v1:a"}
    assert "meeshy:services" not in kept      # plain settings are the caller's whole say


def test_posting_users_get_distinct_logins_checked_by_bcrypt(ferretdb, fresh_db):
    client = ferretdb.client()
    db = client[fresh_db("accounts")]
    users = [ObjectId() for _ in range(5)]
    names = ["ada1", "ada2", "bola3", "chen4", "bola5"]
    db.User.insert_many([{"_id": u, "username": n, "password": "$2b$10$x"} for u, n in zip(users, names)])
    pairs = [(ObjectId(), u) for u in users]
    chosen = accounts.distinct_logins(db, pairs)
    assert [u for _, u in chosen] == [users[0], users[2], users[3]]
    logins = accounts.provision(db, chosen)
    for user in (users[0], users[2], users[3]):
        username, password = logins[str(user)]
        stored = db.User.find_one({"_id": user})
        assert stored["username"] == username
        assert bcrypt.checkpw(password.encode(), stored["password"].encode())
        assert password not in repr(logins)
    assert db.User.find_one({"_id": users[1]})["password"] == "$2b$10$x"
    client.close()


def test_the_real_images_take_the_targets_places_once_built():
    images = {**FERRET, "gateway@meeshy": "g:meeshy-abc-1", "mongo@documentdb": DOCUMENTDB["mongo"]}
    waited = []
    chosen = real_images(images, LOCAL, wait=lambda build, tag: waited.append((build.what, tag)))
    assert sorted(waited) == [("DocumentDB", DOCUMENTDB["mongo"]), ("gateway", "g:meeshy-abc-1")]
    assert (chosen["gateway"], chosen["mongo"]) == ("g:meeshy-abc-1", DOCUMENTDB["mongo"])
    assert images["gateway"] == FERRET["gateway"]       # the caller's map is not changed

    def never_built(build, tag):
        raise built_images.ImageNotBuilt(f"{build.what} {tag} not built")
    with pytest.raises(built_images.ImageNotBuilt, match="not built"):
        real_images(images, LOCAL, wait=never_built)
    remote = Engine(docker_host="ssh://deploy@server")
    assert real_images(images, remote, wait=never_built)["gateway"] == "g:meeshy-abc-1"
