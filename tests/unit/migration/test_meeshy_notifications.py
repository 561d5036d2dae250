"""Notification rule: flat fields -> actor/context/metadata/delivery; bad JSON kept as raw."""
import json

from hypothesis import given
from hypothesis import strategies as st

from migration.engine import Quarantine, Write
from migration.engine.validation.schema import load_schema
from migration.engine.validation.validator import Validator
from migration.meeshy import SCHEMA_PATH
from migration.meeshy.transforms.notifications import migrate_notification
from testing.legacy.hand_built import ABSENT, at, iso, legacy_notification, oid

VALIDATOR = Validator(load_schema(SCHEMA_PATH))


def only_write(doc):
    (outcome,) = migrate_notification(doc)
    assert isinstance(outcome, Write), outcome
    return outcome.doc


def test_exact_structured_output():
    legacy = legacy_notification(oid(9), oid(1), senderId=str(oid(2)), senderUsername="bola",
                                 senderAvatar="/a.png", messagePreview="salut", conversationId=oid(3),
                                 messageId=oid(4), expiresAt=iso(at(90)))
    assert only_write(legacy) == {
        "_id": oid(9), "userId": oid(1), "type": "new_message", "title": "New message",
        "content": "You have a new message", "priority": "normal", "isRead": False,
        "expiresAt": at(90), "createdAt": at(27),
        # Json in the target: references inside are hex strings; the message is also top-level.
        "actor": {"id": str(oid(2)), "username": "bola", "avatar": "/a.png"},
        "context": {"conversationId": str(oid(3)), "messageId": str(oid(4)), "messagePreview": "salut"},
        "messageId": oid(4),
        "metadata": {"conversationTitle": "Team"},
        "delivery": {"emailSent": False, "pushSent": True},
    }


def test_data_that_is_not_json_is_kept_whole_as_raw():
    assert only_write(legacy_notification(oid(9), oid(1), data="{oops"))["metadata"] == {"raw": "{oops"}


def test_no_sender_no_references_means_no_actor_and_no_context():
    doc = only_write(legacy_notification(oid(9), oid(1), data=ABSENT, emailSent=ABSENT, pushSent=ABSENT))
    assert "actor" not in doc and "context" not in doc and "metadata" not in doc
    assert doc["delivery"] == {"emailSent": False, "pushSent": False}
    assert VALIDATOR.errors("Notification", doc) == []


def test_invalid_reference_is_quarantined_naming_the_field():
    (outcome,) = migrate_notification(legacy_notification(oid(9), "undefined"))
    assert isinstance(outcome, Quarantine) and "userId" in outcome.reason
    (outcome,) = migrate_notification(legacy_notification(oid(9), oid(1), callSessionId="call-7"))
    assert isinstance(outcome, Quarantine) and "context.callSessionId" in outcome.reason


def test_flat_fields_are_gone():
    doc = only_write(legacy_notification(oid(9), oid(1), senderId=oid(2), conversationId=oid(3)))
    for flat in ("senderId", "senderUsername", "conversationId", "data", "emailSent", "pushSent"):
        assert flat not in doc


json_values = st.recursive(st.none() | st.booleans() | st.integers(-2**53, 2**53) | st.text(max_size=8),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                               st.text(alphabet="abcxyz", min_size=1, max_size=5), inner, max_size=3),
                           max_leaves=8)


@given(data=st.one_of(st.text(max_size=40), json_values.map(json.dumps)))
def test_property_metadata_is_the_parsed_data_or_the_raw_text(data):
    doc = only_write(legacy_notification(oid(9), oid(1), data=data))
    try:
        expected = json.loads(data)
    except ValueError:
        expected = {"raw": data}
    # Compared as JSON text: Python's parser accepts NaN, which is never equal to itself.
    assert json.dumps(doc["metadata"], sort_keys=True) == json.dumps(expected, sort_keys=True)
    assert VALIDATOR.errors("Notification", doc) == []
