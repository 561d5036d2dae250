"""The packed (message, user) status groups: lossless round trip and earliest-date merge."""
from datetime import datetime

from bson import ObjectId
from hypothesis import given
from hypothesis import strategies as st

from migration.meeshy.compact import merge_packed, pack_group, unpack_group

ids = st.binary(min_size=12, max_size=12).map(ObjectId)
dates = st.none() | st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2300, 1, 1)).map(
    lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000))


@given(survivor=ids, received=dates, read=dates)
def test_property_pack_round_trips(survivor, received, read):
    assert unpack_group(pack_group(survivor, received, read)) == (survivor, received, read)


@given(first=ids, second=ids, a=st.tuples(dates, dates), b=st.tuples(dates, dates))
def test_property_merge_keeps_the_first_survivor_and_the_earliest_dates(first, second, a, b):
    merged = unpack_group(merge_packed(pack_group(first, *a), pack_group(second, *b)))
    earliest = tuple(min([d for d in pair if d is not None], default=None) for pair in zip(a, b))
    assert merged == (first,) + earliest


def test_unusable_documents_do_not_take_part():
    packed = pack_group(ObjectId(b"a" * 12), None, datetime(2025, 1, 1))
    assert merge_packed(None, packed) == packed == merge_packed(packed, None)
