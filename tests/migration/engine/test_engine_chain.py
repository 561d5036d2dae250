"""Chain checks, deterministic ids and ordering helpers (pure: no database)."""
import datetime as dt

import pytest
from bson import ObjectId
from hypothesis import given
from hypothesis import strategies as st

from migration.engine import CollectionRule, DropCollection, Step, derived_id
from migration.engine.chain import check_chain
from migration.engine.errors import ConfigError
from migration.engine.hashing import sort_key
from migration.engine.target.ledger import id_token, split_token, target_token


def noop(doc, ctx):
    yield from ()


def test_derived_id_is_deterministic_and_type_sensitive():
    oid = ObjectId("65a1b2c3d4e5f6a7b8c9d0e1")
    assert derived_id("p", oid, "u") == derived_id("p", oid, "u")
    assert derived_id("p", 1) != derived_id("p", "1")
    assert derived_id("a", "bc") != derived_id("ab", "c")
    assert derived_id(None) != derived_id("")
    assert derived_id(dt.datetime(2024, 1, 1)) == \
        derived_id(dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc))
    with pytest.raises(TypeError):
        derived_id(object())


@given(st.lists(st.one_of(st.text(), st.integers(), st.none(), st.booleans()), max_size=4))
def test_derived_id_is_a_pure_function(parts):
    assert derived_id(*parts) == derived_id(*list(parts))


def test_chain_must_be_linear():
    a = Step("a", None, "first")
    b = Step("b", "a", "second")
    assert check_chain([a, b]).step_ids() == ["a", "b"]
    with pytest.raises(ConfigError, match="strictly linear"):
        check_chain([a, Step("c", "x", "broken")])
    with pytest.raises(ConfigError, match="strictly linear"):
        check_chain([b])
    with pytest.raises(ConfigError, match="no steps"):
        check_chain([])


def test_a_source_collection_has_one_rule():
    rule = CollectionRule("users", "User", noop)
    with pytest.raises(ConfigError, match="driven by two rules"):
        check_chain([Step("a", None, "x", rules=(rule, DropCollection("users", "why")))])


def test_mapped_and_dropped_must_not_overlap():
    rule = CollectionRule("users", "User", noop, mapped=("a",), dropped={"a": "why"})
    with pytest.raises(ConfigError, match="both mapped and dropped"):
        check_chain([Step("a", None, "x", rules=(rule,))])


def test_up_to_selects_a_prefix_and_rejects_unknown_steps():
    chain = check_chain([Step("a", None, "1"), Step("b", "a", "2"), Step("c", "b", "3")])
    assert [s.id for s in chain.up_to("b")] == ["a", "b"]
    assert [s.id for s in chain.up_to(None)] == ["a", "b", "c"]
    with pytest.raises(ConfigError, match="'z' is not a step"):
        chain.up_to("z")


@given(st.lists(st.one_of(st.integers(-2**40, 2**40), st.text(max_size=5), st.none(),
                          st.binary(min_size=12, max_size=12).map(ObjectId)), max_size=8))
def test_target_tokens_round_trip(values):
    for value in values:
        assert split_token(target_token("Coll", value)) == ("Coll", value)
        assert id_token(value) == id_token(value)


def test_sort_key_follows_bson_type_order():
    values = [ObjectId(), "s", 5, None, True, dt.datetime(2020, 1, 1), 2.5]
    ordered = sorted(values, key=sort_key)
    assert ordered[0] is None
    assert [type(v) for v in ordered[1:]] == [float, int, str, ObjectId, bool, dt.datetime] or \
        [type(v) for v in ordered[1:]] == [int, float, str, ObjectId, bool, dt.datetime]
