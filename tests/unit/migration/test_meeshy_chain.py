"""The Meeshy chain as data: every legacy collection has one rule, every generated field is
mapped or dropped, and every document the chain writes validates against the target schema."""
from collections import Counter

import pytest

from legacy_data.dataset import generate_legacy_dataset
from legacy_data.skeleton import COUNTS_AT_SCALE_1
from migration.engine import CollectionRule, DropCollection, Merge, Quarantine, Write
from migration.engine.chain import load_chain
from migration.engine.validation.schema import load_schema
from migration.engine.validation.validator import Validator
from migration.meeshy import CHAIN, SCHEMA_PATH
from migration.meeshy.coerce import model
from testing.legacy.in_memory import InMemoryContext, rule_for

RENAMES = {"call_sessions": "CallSession", "call_participants": "CallParticipant",
           "user_conversation_preferences": "UserConversationPreferences",
           "user_conversation_categories": "UserConversationCategory",
           "ConversationMember": "Participant", "AnonymousParticipant": "Participant",
           "MessageStatus": "MessageStatusEntry", "MessageTranslation": "Message",
           "MessageReadStatus": "MessageStatusEntry",  # the operators' decision: migrated
           "UserPreference": "user_preference"}  # the real target maps UserPreference there
CHAIN_RULES = [r for step in CHAIN for r in step.rules]
# Notification is dropped by the operators' decision (decisions.py), the others have no model.
RETIRED = {"Notification", "old_message_status", "MessageAttachment_backup_urls", "TypingIndicator"}


@pytest.fixture(scope="module")
def dataset():
    return generate_legacy_dataset(seed=11, scale=0.05)


def test_chain_loads_and_is_linear():
    chain = load_chain("migration.meeshy")
    assert chain.schema_path == SCHEMA_PATH
    assert [s.previous for s in chain.steps] == [None] + [s.id for s in chain.steps[:-1]]


def test_every_production_collection_has_exactly_one_rule_with_the_right_target():
    rules = [r for step in CHAIN for r in step.rules if r.source in COUNTS_AT_SCALE_1]
    sources = Counter(r.source for r in CHAIN_RULES)
    assert set(sources) >= set(COUNTS_AT_SCALE_1) and set(sources.values()) == {1}
    for rule in rules:
        if isinstance(rule, DropCollection):
            assert rule.source in RETIRED and rule.reason
        else:
            assert rule.source not in RETIRED
            assert rule.target == RENAMES.get(rule.source, rule.source)


def test_every_collection_the_chain_writes_is_a_target_model():
    written = {r.target for step in CHAIN for r in step.rules if isinstance(r, CollectionRule)}
    written |= {c for r in CHAIN_RULES if isinstance(r, CollectionRule) for c in r.also_writes}
    assert written <= set(load_schema(SCHEMA_PATH).collections())


def test_pass_through_rules_map_exactly_the_model_fields():
    rule = rule_for("FriendRequest")
    assert set(rule.mapped) == set(model("FriendRequest").fields) - {"_id"} and not rule.dropped
    calls = rule_for("call_sessions")
    assert set(calls.mapped) == set(model("CallSession").fields) - {"_id"}
    assert set(calls.dropped) == {"createdAt", "updatedAt"}  # the target's CallSession has neither


def test_every_generated_field_is_mapped_or_dropped(dataset):
    for step in CHAIN:
        for rule in step.rules:
            if isinstance(rule, CollectionRule):
                known = {"_id", *rule.mapped, *rule.dropped}
                seen = {key for doc in dataset.get(rule.source, []) for key in doc}
                assert seen <= known, (rule.source, seen - known)


def test_every_written_document_validates_and_accounting_is_complete(dataset):
    validator = Validator(load_schema(SCHEMA_PATH))
    for step in CHAIN:
        for rule in step.rules:
            if not isinstance(rule, CollectionRule):
                continue
            results = InMemoryContext.run(dataset, rule)
            assert len(results) == len(dataset.get(rule.source, []))
            for source_id, outcomes in results.items():
                assert outcomes, (rule.source, source_id)
                assert all(isinstance(o, (Write, Merge, Quarantine)) for o in outcomes)
                for outcome in outcomes:
                    if isinstance(outcome, Write):
                        target = outcome.collection or rule.target
                        assert validator.errors(target, outcome.doc) == [], (rule.source, source_id)


def test_chain_does_not_mutate_source_documents(dataset):
    import copy
    snapshot = copy.deepcopy(dataset)
    for source in ("User", "ConversationMember", "Message", "MessageStatus", "MessageReadStatus"):
        InMemoryContext.run(dataset, rule_for(source))
    assert dataset == snapshot


def test_carried_over_documents_get_derived_timestamps_and_keep_absent_optionals():
    from bson import ObjectId

    from migration.meeshy.passthrough import carried_over
    _id = ObjectId("65a0f0000000000000000001")
    doc = carried_over({"_id": _id, "identifier": "c", "type": "group"}, "Conversation")
    created = _id.generation_time.replace(tzinfo=None)
    assert doc == {"_id": _id, "identifier": "c", "type": "group", "isActive": True,
                   "createdAt": created, "updatedAt": created,
                   # the real target's literal defaults for what a legacy conversation lacks
                   "memberCount": 0, "defaultWriteRole": "everyone", "isAnnouncementChannel": False,
                   "slowModeSeconds": 0, "autoTranslateEnabled": True}
