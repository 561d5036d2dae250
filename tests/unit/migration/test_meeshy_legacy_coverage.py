"""The legacy side is complete: every field of every model of either legacy schema is mapped or
dropped by the rule driving its collection, and the generator writes the defaulted ones."""
import pathlib

import pytest

from legacy_data.dataset import generate_legacy_dataset
from legacy_data.legacy_defaults import LEGACY_DIR, LEGACY_SCHEMAS, defaulted_fields, legacy_models
from migration.engine import DropCollection
from migration.meeshy import CHAIN

REFERENCE = pathlib.Path(__file__).resolve().parents[4] / "shared/reference/meeshy/schema"
RULES = {rule.source: rule for step in CHAIN for rule in step.rules}


@pytest.mark.parametrize("name", LEGACY_SCHEMAS)
def test_the_legacy_schema_copies_are_byte_identical_to_meeshys(name):
    if not (REFERENCE / name).is_file():
        pytest.skip(f"{REFERENCE / name} is absent: nothing to compare the copy with")
    assert (LEGACY_DIR / name).read_bytes() == (REFERENCE / name).read_bytes()


def test_every_legacy_model_field_is_mapped_or_dropped_by_its_rule():
    unaccounted = []
    for schema in legacy_models():
        for model in schema.models.values():
            rule = RULES.get(model.collection)
            if rule is None:
                unaccounted.append(f"{model.collection}: no rule")
            elif not isinstance(rule, DropCollection):
                known = set(rule.mapped) | set(rule.dropped) | {"_id"}
                unaccounted += [f"{model.collection}.{f}" for f in model.fields if f not in known]
    assert unaccounted == []
    assert sum(len(s.models) for s in legacy_models()) == 37 + 52


def test_every_dropped_field_says_why():
    for rule in RULES.values():
        for field, why in getattr(rule, "dropped", {}).items():
            assert isinstance(why, str) and len(why) > 10, (rule.source, field)


def test_the_generator_writes_every_defaulted_legacy_field():
    dataset = generate_legacy_dataset(seed=3, scale=0.05)
    missing = []
    for collection, documents in dataset.items():
        seen = {key for doc in documents for key in doc}
        missing += [f"{collection}.{f}" for f, _ in defaulted_fields(collection)
                    if documents and f not in seen]
    assert missing == []
    assert any("failedLoginAttempts" in d for d in dataset["User"])
    assert any("conversationId" in d for d in dataset["MessageStatus"])
