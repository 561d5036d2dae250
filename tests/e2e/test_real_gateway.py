"""Meeshy's real gateway, built from its own source (tools/build-gateway-image.sh), serving data
our migration wrote, on DocumentDB, through its own HTTP API (ops/meeshy_api.py).

Once per module: DocumentDB, Redis and the gateway on a Docker network of their own, published on
127.0.0.1 only (testing/real_gateway.py); the generated legacy dataset (legacy_data/) at a small
scale, migrated by the real command line (`python -m migration run`); one migrated user given a
password the test knows, as `./meeshy smoke --provision` gives staging's smoke user one
(ops/smoke_user.py, in a throw-away container of the gateway image: hashed by its own bcrypt;
the dataset's hashes are not of any password). Then a client does what
a user does: health, login, conversations, messages, a post; and ops' smoke check (ops/smoke.py)
passes on that data, and fails on a message planted in a shape the gateway cannot read.
"""
from __future__ import annotations

import json
import secrets
from datetime import timedelta

import pytest
from bson import ObjectId

from legacy_data.dataset import insert_legacy_dataset
from ops import smoke_user
from ops.meeshy_api import MeeshyApi
from ops.smoke import CHECKS, format_result, smoke_check
from testing.real_gateway import DATABASE, RealGatewayError, RealGatewayStack
from testing.secret_scan import in_text
from tests.support.cli_runner import migration_cli

pytestmark = [pytest.mark.e2e, pytest.mark.docker]

SCALE = 0.05   # ~6.3k legacy documents: every collection; migrated in about 25 s here
LEGACY = "meeshy_legacy"
# What the gateway logs when Prisma reads a planted message (below).
PRISMA_REFUSAL = "Inconsistent column data: Failed to convert '12345' to 'String' for the field 'content'"


@pytest.fixture(scope="module")
def env(docker_engine):
    stack = RealGatewayStack()
    try:
        stack.start()
    except RealGatewayError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        client = stack.database.client()
        insert_legacy_dataset(client[LEGACY], seed=1, scale=SCALE)
        run = migration_cli("run", "--source", stack.database.uri(LEGACY),
                            "--target", stack.database.uri(DATABASE), chain=None, timeout=600)
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
        db = client[DATABASE]
        # As staging's smoke user (smoke --provision): a user ops chooses, a password only ops knows.
        smoke = smoke_user.provision("e2e", stack.tag, stack.database_url, network=stack.network)
        user = db.User.find_one({"_id": ObjectId(smoke.user_id)})
        participant = db.Participant.find_one({"userId": user["_id"], "isActive": True,
                                               "conversationId": ObjectId(smoke.conversation_id)})
        stack.start_gateway()
        yield {"stack": stack, "db": db, "api": MeeshyApi(stack.url), "user": user,
               "participant": participant, "password": smoke.user.password}
        client.close()
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def token(env):
    return env["api"].token(env["user"]["username"], env["password"])


def test_the_health_route_answers_and_counts_the_migrated_users(env):
    answer = env["api"].health()
    assert answer.status == 200, answer.body
    assert answer.body["status"] == "healthy"
    assert answer.body["services"]["database"] == {"status": "up",
                                                   "userCount": env["db"].User.count_documents({})}
    assert answer.body["build"]["commit"] == "ea1789df26f3"


def test_a_wrong_password_or_an_unknown_user_is_refused(env):
    api, username = env["api"], env["user"]["username"]
    for name, password in ((username, env["password"] + "x"), ("nobody-" + secrets.token_hex(4), "x" * 12)):
        answer = api.login(name, password)
        assert answer.status == 401, answer.body
        assert "token" not in (answer.data() or {})


def test_a_migrated_user_logs_in_and_lists_its_conversations(env, token):
    db, user = env["db"], env["user"]
    mine = {p["conversationId"] for p in db.Participant.find({"userId": user["_id"], "isActive": True})}
    expected = {str(c["_id"]) for c in db.Conversation.find({"_id": {"$in": list(mine)},
                                                             "isActive": {"$ne": False}})}
    listed = env["api"].conversations(token)
    assert {c["id"] for c in listed} == expected
    assert str(env["participant"]["conversationId"]) in expected


def test_a_posted_message_is_acknowledged_stored_and_read_back(env, token):
    api, db, participant = env["api"], env["db"], env["participant"]
    conversation = str(participant["conversationId"])
    content = f"e2e {secrets.token_hex(6)}"
    message = api.post_message(token, conversation, content)
    stored = db.Message.find_one({"_id": ObjectId(message["id"])})
    assert stored is not None, f"acknowledged id {message['id']} is not in the database"
    assert (stored["content"], stored["conversationId"], stored["senderId"]) == (
        content, participant["conversationId"], participant["_id"])
    listed = api.messages(token, conversation, limit=10)
    assert listed and listed[0]["id"] == message["id"] and listed[0]["content"] == content


def test_the_migrated_messages_of_a_conversation_are_served(env, token):
    db, participant = env["db"], env["participant"]
    conversation = participant["conversationId"]
    migrated = {str(m["_id"]) for m in db.Message.find(
        {"conversationId": conversation, "deletedAt": None, "content": {"$not": {"$regex": "^e2e "}}},
        {"_id": 1}).sort("createdAt", -1).limit(20)}
    assert migrated, "the chosen conversation has no live migrated message"
    listed = {m["id"] for m in env["api"].messages(token, str(conversation), limit=50)}
    assert migrated <= listed


def test_the_smoke_check_passes_on_the_migrated_data(env):
    result = smoke_check(env["api"], env["user"]["username"], env["password"])
    assert result.ok, format_result(result)
    assert [c.name for c in result.checks] == list(CHECKS)
    shown = json.dumps(result.to_dict()) + format_result(result)
    secret = {"userPassword": env["password"], "databasePassword": env["stack"].database.password}
    assert in_text(secret, "the smoke check's result", shown) == []


def _unreadable_messages(db, user, newest: bool) -> list:
    """In each conversation of `user`, a copy of its newest message but for `content`: a number
    where Prisma's schema says String, so Prisma refuses to decode it. Dated after that message
    (`newest`: the conversation's last message, which its listing shows too), else 1 ms before
    it (the second newest: only the messages' listing reads it)."""
    planted = []
    for participant in db.Participant.find({"userId": user["_id"], "isActive": True}):
        last = db.Message.find_one({"conversationId": participant["conversationId"]},
                                   sort=[("createdAt", -1)])
        if last:
            planted.append({**last, "_id": ObjectId(), "content": 12345,
                            "createdAt": last["createdAt"] + timedelta(milliseconds=1 if newest else -1)})
    assert planted, "the smoke user's conversations have no message to copy"
    return db.Message.insert_many(planted).inserted_ids


@pytest.mark.parametrize("newest, failed", [(True, ["conversations", "messages"]),
                                            (False, ["messages"])])
def test_the_smoke_check_fails_on_data_the_gateway_cannot_read(env, newest, failed):
    db, stack, username = env["db"], env["stack"], env["user"]["username"]
    refusals = stack.log_tail(lines=100_000).count(PRISMA_REFUSAL)
    planted = _unreadable_messages(db, env["user"], newest)
    try:
        result = smoke_check(env["api"], username, env["password"])
        log = stack.log_tail(lines=100_000)
    finally:
        db.Message.delete_many({"_id": {"$in": planted}})
    assert [c.name for c in result.failed()] == failed, format_result(result)
    assert "HTTP 500" in result.failed()[0].detail, format_result(result)
    # The right reason: Prisma refused to decode the planted content, as the gateway logged it
    # during this check.
    assert log.count(PRISMA_REFUSAL) > refusals, log[-3000:]
    # The planted messages were the cause: without them the same check passes again.
    assert smoke_check(env["api"], username, env["password"]).ok


def test_no_secret_reaches_the_gateways_log(env, token):
    stack = env["stack"]
    secret = {**stack.secrets, "databasePassword": stack.database.password,
              "userPassword": env["password"], "jwt": token}
    assert in_text(secret, "the gateway's log", stack.log_tail(lines=100_000)) == []
