"""Repairs of legacy type defects: string references and ISO-string dates."""
from datetime import datetime, timedelta, timezone

import pytest
from bson import ObjectId
from hypothesis import given
from hypothesis import strategies as st

from migration.meeshy.coerce import Invalid, as_date, as_object_id, coerce_document, model, static_defaults
from migration.meeshy.explicit_nulls import EXPLICIT_NULLS
from testing.legacy.hand_built import iso, oid

moments = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1)).map(
    lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000))


@given(moment=moments, offset_minutes=st.integers(-14 * 60, 14 * 60))
def test_property_iso_strings_in_any_offset_denote_the_same_utc_instant(moment, offset_minutes):
    assert as_date(iso(moment)) == moment
    zone = timezone(timedelta(minutes=offset_minutes))
    assert as_date(moment.replace(tzinfo=timezone.utc).astimezone(zone).isoformat()) == moment


@given(raw=st.binary(min_size=12, max_size=12))
def test_property_hex_strings_are_the_same_reference_as_the_object_id(raw):
    value = ObjectId(raw)
    assert as_object_id(str(value)) == value == as_object_id(value)
    assert as_object_id(str(value).upper()) == value


@given(text=st.text(max_size=30))
def test_property_anything_else_is_not_a_reference(text):
    if not (len(text) == 24 and all(c in "0123456789abcdefABCDEF" for c in text)):
        assert as_object_id(text) is None


def test_dates_are_truncated_to_what_bson_stores():
    assert as_date(datetime(2025, 1, 1, 0, 0, 0, 123456)) == datetime(2025, 1, 1, 0, 0, 0, 123000)
    assert as_date("2025-01-01") == datetime(2025, 1, 1)
    assert as_date("last tuesday") is None and as_date(1735689600000) is None


def test_coerce_document_repairs_nested_fields_and_names_the_path_of_a_bad_one():
    session = {"sessionTokenHash": "h", "connectedAt": iso(datetime(2025, 1, 3))}
    doc = {"_id": oid(1), "conversationId": str(oid(2)), "joinedAt": iso(datetime(2025, 1, 2)),
           "anonymousSession": {"shareLinkId": "", "session": session, "profile": {}}}
    fixed = coerce_document(doc, "Participant")
    assert fixed["conversationId"] == oid(2) and fixed["joinedAt"] == datetime(2025, 1, 2)
    assert fixed["anonymousSession"]["session"]["connectedAt"] == datetime(2025, 1, 3)
    assert doc["conversationId"] == str(oid(2))
    bad = {**doc, "anonymousSession": {"session": {"connectedAt": "x"}}}
    with pytest.raises(Invalid, match=r"anonymousSession\.session\.connectedAt: 'x' is not a date"):
        coerce_document(bad, "Participant")
    with pytest.raises(Invalid, match=r"blockedUserIds\[1\]"):
        coerce_document({"blockedUserIds": [oid(1), "nope"]}, "User")


def test_static_defaults_are_literals_and_lists_only():
    defaults = static_defaults("Message")
    assert defaults == {"originalLanguage": "fr", "messageType": "text", "messageSource": "user",
                        "isEdited": False, "isViewOnce": False, "viewOnceCount": 0, "isBlurred": False,
                        "effectFlags": 0, "validatedMentions": [], "reactionCount": 0, "isEncrypted": False}


def test_explicit_nulls_are_optional_scalar_fields_of_the_target():
    for model_name, fields in EXPLICIT_NULLS.items():
        for field in fields:
            spec = model(model_name).fields[field]
            assert spec.optional and not spec.is_list, (model_name, field)


def test_fields_the_gateway_reads_by_their_absence_are_not_written_null():
    """User.deletedAt (isSet: false in MentionService), Conversation.firstMessageSentAt (a null
    hides a direct conversation), MessageStatusEntry.deliveredAt (a null lets the gateway restamp
    receivedAt): README.md, "Explicit nulls"."""
    for model_name, field in (("User", "deletedAt"), ("Conversation", "firstMessageSentAt"),
                              ("MessageStatusEntry", "deliveredAt")):
        assert field not in EXPLICIT_NULLS.get(model_name, ())
        assert field not in coerce_document({}, model_name)


def test_a_model_document_gets_its_explicit_nulls_and_keeps_its_values():
    assert coerce_document({}, "Message") == {"deletedAt": None}
    assert coerce_document({"leftAt": iso(datetime(2025, 1, 1))}, "Participant") == {
        "leftAt": datetime(2025, 1, 1), "bannedAt": None}
    assert coerce_document({}, "Reaction") == {}  # a model without any
