"""The stand-in services (images/standin) served in-process on loopback against a real FerretDB:
what a rehearsal's switch relies on is that they read and write the data of their schema."""
from __future__ import annotations

import datetime as dt
import json
import pathlib
import sys
import threading
import urllib.error
import urllib.request

import pytest
from bson import ObjectId

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[3] / "images" / "standin"))

from meeshy_standin.config import Config, ConfigError  # noqa: E402
from meeshy_standin.server import StandinServer  # noqa: E402

NOW = dt.datetime(2026, 1, 25, 12, 0, tzinfo=dt.timezone.utc)


def call(port: int, path: str, body: dict | None = None) -> tuple[int, dict]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


@pytest.fixture
def serve():
    servers = []

    def start(**fields) -> int:
        fields.setdefault("port", 0)
        fields.setdefault("probe_timeout", 1.0)
        server = StandinServer(Config(**fields), host="127.0.0.1")
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server.server_address[1]

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def seed_legacy(db) -> dict:
    conv, user, other = ObjectId(), ObjectId(), ObjectId()
    db.Conversation.insert_one({"_id": conv, "title": "general", "type": "group"})
    db.ConversationMember.insert_many([
        {"conversationId": conv, "userId": user, "isActive": True, "canSendMessage": True},
        {"conversationId": conv, "userId": other, "isActive": True, "canSendMessage": False}])
    kept, deleted = ObjectId(), ObjectId()
    db.Message.insert_many([
        {"_id": kept, "conversationId": conv, "senderId": user, "content": "bonjour",
         "originalLanguage": "fr", "isDeleted": False, "createdAt": NOW},
        {"_id": deleted, "conversationId": conv, "senderId": user, "content": "oops",
         "originalLanguage": "fr", "isDeleted": True, "createdAt": NOW}])
    db.MessageTranslation.insert_one({"messageId": kept, "targetLanguage": "en",
                                      "translatedContent": "hello"})
    return {"conv": conv, "user": user, "other": other, "kept": kept}


def seed_target(db) -> dict:
    conv, user, muted = ObjectId(), ObjectId(), ObjectId()
    participant = ObjectId()
    db.Conversation.insert_one({"_id": conv, "title": "general", "type": "group"})
    db.Participant.insert_many([
        {"_id": participant, "conversationId": conv, "type": "user", "userId": user,
         "displayName": "Ana", "isActive": True, "permissions": {"canSendMessages": True}},
        {"conversationId": conv, "type": "user", "userId": muted, "displayName": "Bo",
         "isActive": True, "permissions": {"canSendMessages": False}}])
    kept = ObjectId()
    db.Message.insert_many([
        {"_id": kept, "conversationId": conv, "senderId": participant, "content": "bonjour",
         "originalLanguage": "fr", "createdAt": NOW,
         "translations": {"en": {"text": "hello", "translationModel": "basic"}}},
        {"conversationId": conv, "senderId": participant, "content": "gone",
         "originalLanguage": "fr", "createdAt": NOW, "deletedAt": NOW}])
    return {"conv": conv, "user": user, "muted": muted, "participant": participant, "kept": kept}


def test_legacy_gateway_lists_live_messages_with_their_translations(ferretdb, fresh_db, serve):
    name = fresh_db("legacy")
    ids = seed_legacy(ferretdb.client()[name])
    port = serve(role="gateway", schema="legacy", database_url=ferretdb.uri(name))
    status, body = call(port, f"/api/v1/conversations/{ids['conv']}/messages")
    assert status == 200
    assert [(m["id"], m["translations"]) for m in body["data"]] == [(str(ids["kept"]),
                                                                     {"en": "hello"})]


def test_legacy_gateway_posts_as_the_user_and_refuses_members_without_the_right(
        ferretdb, fresh_db, serve):
    name = fresh_db("legacy")
    db = ferretdb.client()[name]
    ids = seed_legacy(db)
    port = serve(role="gateway", schema="legacy", database_url=ferretdb.uri(name))
    path = f"/api/v1/conversations/{ids['conv']}/messages"
    status, body = call(port, path, {"userId": str(ids["user"]), "content": "salut"})
    assert status == 201
    stored = db.Message.find_one({"_id": ObjectId(body["data"]["id"])})
    assert (stored["senderId"], stored["content"], stored["isDeleted"]) == (ids["user"], "salut",
                                                                          False)
    assert call(port, path, {"userId": str(ids["other"]), "content": "x"})[0] == 403
    assert db.Message.count_documents({"conversationId": ids["conv"]}) == 3


def test_a_refused_request_leaves_a_kept_alive_connection_usable(ferretdb, fresh_db, serve):
    """Traefik keeps its connections to the gateway open: a body the stand-in did not read (a
    login it does not serve) must not be taken for the next request on that connection."""
    import http.client
    name = fresh_db("keepalive")
    ids = seed_legacy(ferretdb.client()[name])
    port = serve(role="gateway", schema="legacy", database_url=ferretdb.uri(name))
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Content-Type": "application/json"}
    answers = []
    for path, body in (("/api/v1/auth/login", {"username": "ada1", "password": "x" * 24}),
                       (f"/api/v1/conversations/{ids['conv']}/messages",
                        {"userId": str(ids["user"]), "content": "after a refused login"})):
        connection.request("POST", path, json.dumps(body), headers)
        reply = connection.getresponse()
        answers.append((reply.status, json.loads(reply.read())))
    connection.close()
    assert answers[0][0] == 404 and "not served" in answers[0][1]["error"]
    assert answers[1][0] == 201, answers[1]


def test_target_gateway_reads_embedded_translations_and_skips_soft_deleted(
        ferretdb, fresh_db, serve):
    name = fresh_db("target")
    ids = seed_target(ferretdb.client()[name])
    port = serve(role="gateway", schema="target", database_url=ferretdb.uri(name))
    status, body = call(port, f"/api/v1/conversations/{ids['conv']}/messages?limit=10")
    assert status == 200
    assert [(m["senderId"], m["translations"]) for m in body["data"]] == [
        (str(ids["participant"]), {"en": "hello"})]


def test_target_gateway_posts_as_the_participant_not_the_user(ferretdb, fresh_db, serve):
    name = fresh_db("target")
    db = ferretdb.client()[name]
    ids = seed_target(db)
    port = serve(role="gateway", schema="target", database_url=ferretdb.uri(name))
    path = f"/api/v1/conversations/{ids['conv']}/messages"
    status, body = call(port, path, {"userId": str(ids["user"]), "content": "salut",
                                     "originalLanguage": "es"})
    assert status == 201
    stored = db.Message.find_one({"_id": ObjectId(body["data"]["id"])})
    assert stored["senderId"] == ids["participant"]
    assert "isDeleted" not in stored and stored["translations"] == {}
    assert "deletedAt" in stored and stored["deletedAt"] is None    # as Meeshy's gateway writes it
    assert db.Conversation.find_one({"_id": ids["conv"]})["lastMessageAt"] is not None
    assert call(port, path, {"userId": str(ids["muted"]), "content": "x"})[0] == 403


def test_a_message_the_target_gateway_posts_validates_against_the_target_schema(
        ferretdb, fresh_db, serve):
    """The real gateway's Prisma client fills every defaulted field on a write; the schema check
    of a later release validates those messages, so the stand-in must write them the same way."""
    from migration.engine.validation.schema import load_schema
    from migration.engine.validation.validator import Validator
    from migration.meeshy import SCHEMA_PATH
    name = fresh_db("target")
    db = ferretdb.client()[name]
    ids = seed_target(db)
    port = serve(role="gateway", schema="target", database_url=ferretdb.uri(name))
    status, body = call(port, f"/api/v1/conversations/{ids['conv']}/messages",
                        {"userId": str(ids["user"]), "content": "salut"})
    assert status == 201
    stored = db.Message.find_one({"_id": ObjectId(body["data"]["id"])})
    assert Validator(load_schema(SCHEMA_PATH)).errors("Message", stored) == []


def test_a_legacy_gateway_on_migrated_data_cannot_post(ferretdb, fresh_db, serve):
    # The old service against the new schema finds no ConversationMember: the switch must
    # change the images, not only the data, and the rehearsal can see the difference.
    name = fresh_db("target")
    ids = seed_target(ferretdb.client()[name])
    port = serve(role="gateway", schema="legacy", database_url=ferretdb.uri(name))
    status, _ = call(port, f"/api/v1/conversations/{ids['conv']}/messages",
                     {"userId": str(ids["user"]), "content": "salut"})
    assert status == 403


@pytest.mark.parametrize("path, body, status, fragment", [
    ("/api/v1/conversations/nope/messages", None, 400, "conversation id"),
    (f"/api/v1/conversations/{ObjectId('000000000000000000000000')}/messages", None, 404, "does not exist"),
    ("/api/v1/conversations?limit=0", None, 400, "limit"),
    ("/api/v1/conversations/{conv}/messages", {"userId": "x", "content": "a"}, 400, "userId"),
    ("/api/v1/conversations/{conv}/messages", {"userId": str(ObjectId()), "content": " "}, 400,
     "content"),
    ("/api/v1/users", None, 404, "not served"),
])
def test_gateway_rejects_bad_requests_naming_the_problem(ferretdb, fresh_db, serve, path, body,
                                                         status, fragment):
    name = fresh_db("target")
    ids = seed_target(ferretdb.client()[name])
    port = serve(role="gateway", schema="target", database_url=ferretdb.uri(name))
    got, answer = call(port, path.format(conv=ids["conv"]), body)
    assert got == status and fragment in answer["error"]


def test_gateway_health_reports_each_dependency(ferretdb, fresh_db, serve):
    name = fresh_db("health")
    translator = serve(role="translator", database_url=ferretdb.uri(name))
    up = serve(role="gateway", database_url=ferretdb.uri(name),
               translator_url=f"http://127.0.0.1:{translator}")
    assert call(up, "/health") == (200, {"status": "healthy", "schema": "target", "standin": True,
                                         "services": {"database": True, "translation": True}})
    # A translator address where nothing listens: the port of a server already closed.
    closed = StandinServer(Config(role="web", port=0), host="127.0.0.1")
    dead_port = closed.server_address[1]
    closed.server_close()
    down = serve(role="gateway", database_url=ferretdb.uri(name),
                 translator_url=f"http://127.0.0.1:{dead_port}")
    status, body = call(down, "/health")
    assert (status, body["services"]) == (503, {"database": True, "translation": False})


def test_database_outage_makes_translator_unready_but_still_live(serve):
    port = serve(role="translator", database_url="mongodb://127.0.0.1:9/meeshy",
                 probe_timeout=0.3)
    assert call(port, "/live")[0] == 200
    assert call(port, "/ready")[0] == 503
    assert call(port, "/health")[1]["services"] == {"database": False}


def test_web_health_follows_the_gateway(ferretdb, fresh_db, serve):
    name = fresh_db("web")
    translator = serve(role="translator", database_url=ferretdb.uri(name))
    healthy = serve(role="gateway", database_url=ferretdb.uri(name),
                    translator_url=f"http://127.0.0.1:{translator}")
    broken = serve(role="gateway", database_url=ferretdb.uri(name), force_unhealthy=True,
                   translator_url=f"http://127.0.0.1:{translator}")
    assert call(serve(role="web", backend_url=f"http://127.0.0.1:{healthy}"),
                "/api/health")[0] == 200
    status, body = call(serve(role="web", backend_url=f"http://127.0.0.1:{broken}"),
                        "/api/health")
    assert (status, body["backend"]["status"]) == (503, 503)


@pytest.mark.parametrize("env, fragment", [
    ({}, "MEESHY_STANDIN_ROLE"),
    ({"MEESHY_STANDIN_ROLE": "gateway"}, "DATABASE_URL"),
    ({"MEESHY_STANDIN_ROLE": "web", "PORT": "http"}, "PORT"),
    ({"MEESHY_STANDIN_ROLE": "web", "MEESHY_SCHEMA": "v2"}, "MEESHY_SCHEMA"),
])
def test_config_names_the_bad_variable(env, fragment):
    with pytest.raises(ConfigError, match=fragment):
        Config.from_env(env)


def test_config_gives_each_role_its_real_port():
    assert [Config.from_env({"MEESHY_STANDIN_ROLE": r, "DATABASE_URL": "mongodb://d/m"}).port
            for r in ("translator", "gateway", "web")] == [8000, 3000, 3100]


def test_the_translator_listens_where_fastapi_port_says_like_the_real_one():
    env = {"MEESHY_STANDIN_ROLE": "translator", "DATABASE_URL": "mongodb://d/m",
           "FASTAPI_PORT": "8123", "PORT": "9000"}
    assert Config.from_env(env).port == 8123
