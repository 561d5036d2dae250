"""The legacy dataset generator: section 2's counts, determinism, and every real-data defect."""
import hashlib
import json
from collections import Counter

import bson
import pytest
from bson import ObjectId

from legacy_data.dataset import (
    COUNTS_AT_SCALE_1,
    expected_counts,
    generate_legacy_dataset,
    legacy_collections,
)
from migration.meeshy.legacy_collections import LEGACY_COLLECTIONS


def digest(seed, scale):
    h = hashlib.sha256()
    for name, documents in legacy_collections(seed, scale):
        h.update(name.encode())
        for document in documents:
            h.update(bson.encode(document))
    return h.hexdigest()


@pytest.fixture(scope="module")
def dataset():
    return generate_legacy_dataset(seed=7, scale=1.0)


def test_counts_at_scale_one_are_production_counts(dataset):
    counts = {name: len(docs) for name, docs in dataset.items()}
    for name, production in COUNTS_AT_SCALE_1.items():
        if name != "AnonymousParticipant":
            assert counts[name] == production, name
    assert counts["AnonymousParticipant"] > 0  # production has none; generated to test the token rule
    assert 120_000 < sum(counts.values()) < 130_000
    assert counts == expected_counts(7, 1.0)


def test_the_generator_renders_exactly_the_chains_legacy_collections(dataset):
    """The audit checks production for the chain's list; the generator must stand in for it."""
    assert sorted(dataset) == list(LEGACY_COLLECTIONS)


def test_same_seed_same_bytes_and_other_seed_differs():
    assert digest(3, 0.05) == digest(3, 0.05)
    assert digest(3, 0.05) != digest(4, 0.05)


def test_scale_multiplies_counts():
    assert expected_counts(1, 10.0)["Notification"] == 947_900
    assert expected_counts(1, 0.01)["Community"] == 1  # never empties a collection production has


def test_rejects_non_positive_scale():
    with pytest.raises(ValueError, match="scale must be at least"):
        next(legacy_collections(1, 0))


def test_every_defect_is_present(dataset):
    users = {u["_id"] for u in dataset["User"]}
    conversations = {c["_id"] for c in dataset["Conversation"]}
    messages = {m["_id"] for m in dataset["Message"]}

    def as_id(v):
        return ObjectId(v) if isinstance(v, str) and ObjectId.is_valid(v) else v

    pairs = Counter((as_id(m["conversationId"]), as_id(m["userId"])) for m in dataset["ConversationMember"])
    assert any(n > 1 for n in pairs.values()), "duplicate memberships"
    refs = [m["senderId"] for m in dataset["Message"] if "senderId" in m]
    assert any(isinstance(r, str) and ObjectId.is_valid(r) for r in refs), "valid string references"
    assert any(isinstance(r, str) and not ObjectId.is_valid(r) for r in refs), "invalid string references"
    assert any(isinstance(u.get("createdAt"), str) for u in dataset["User"]), "ISO-string dates"

    def invalid_json(text):
        try:
            json.loads(text)
        except ValueError:
            return True
        return False
    assert any(invalid_json(n["data"]) for n in dataset["Notification"]), "invalid JSON in data"

    senders = [(as_id(m["conversationId"]), as_id(m["senderId"]))
               for m in dataset["Message"] if "senderId" in m]
    assert any(s not in pairs and s[1] in users for s in senders), "sender without membership"
    assert any(isinstance(s[1], ObjectId) and s[1] not in users for s in senders), "deleted user as sender"
    assert any(as_id(m["conversationId"]) not in conversations for m in dataset["Message"]) \
    , "missing conversation"
    assert any(as_id(t["messageId"]) not in messages for t in dataset["MessageTranslation"]) \
    , "orphan translation"
    languages = Counter((as_id(t["messageId"]), t["targetLanguage"]) for t in dataset["MessageTranslation"])
    assert any(n > 1 for n in languages.values()), "duplicate translations"
    assert any(u["role"] == "MODO" for u in dataset["User"]), "MODO roles"
    assert all(a["sessionToken"] for a in dataset["AnonymousParticipant"]), "plain session tokens"
    assert any("anonymousSenderId" in m for m in dataset["Message"]), "anonymous senders"
    assert any(m["isDeleted"] and "deletedAt" not in m for m in dataset["Message"]) \
    , "isDeleted without deletedAt"


def test_unique_keys_of_pass_through_collections_hold(dataset):
    for name, key in [("User", "username"), ("User", "email"), ("Conversation", "identifier"),
                      ("UserStats", "userId"), ("AffiliateToken", "token"), ("TrackingLink", "token"),
                      ("ConversationShareLink", "linkId")]:
        values = [d[key] for d in dataset[name]]
        assert len(values) == len(set(values)), (name, key)
    ids = [d["_id"] for docs in dataset.values() for d in docs]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("seed", range(1, 9))
@pytest.mark.parametrize("scale", [0.01, 0.017, 0.03])
def test_tiny_datasets_terminate_with_their_counts(seed, scale):
    # More statuses than (message, user) pairs at these sizes: generation must still end.
    counts = {name: len(docs) for name, docs in generate_legacy_dataset(seed, scale).items()}
    assert counts == expected_counts(seed, scale)
