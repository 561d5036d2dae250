"""Repairs of legacy type defects: string references and ISO-string dates."""
from datetime import datetime, timedelta, timezone

import pytest
from bson import ObjectId
from hypothesis import given, strategies as st

from migration.meeshy.coerce import Invalid, as_date, as_object_id, coerce_document, static_defaults
from migration.meeshy.hand_built import iso, oid

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
    doc = {"_id": oid(1), "userId": str(oid(2)), "type": "t", "content": "c", "createdAt": iso(datetime(2025, 1, 2)),
           "actor": {"id": str(oid(3))}, "delivery": {"emailSent": False, "pushSent": False}}
    fixed = coerce_document(doc, "Notification")
    assert fixed["userId"] == oid(2) and fixed["actor"]["id"] == oid(3)
    assert fixed["createdAt"] == datetime(2025, 1, 2) and doc["userId"] == str(oid(2))
    with pytest.raises(Invalid, match=r"actor\.id: 'x' is not an ObjectId reference"):
        coerce_document({**doc, "actor": {"id": "x"}}, "Notification")
    with pytest.raises(Invalid, match=r"blockedUserIds\[1\]"):
        coerce_document({"blockedUserIds": [oid(1), "nope"]}, "User")


def test_static_defaults_are_literals_and_lists_only():
    defaults = static_defaults("Message")
    assert defaults == {"originalLanguage": "fr", "messageType": "text", "isEdited": False, "validatedMentions": []}
