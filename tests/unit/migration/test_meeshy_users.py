"""User rule: MODO -> MODERATOR, lastActiveAt = later of lastSeen/lastActiveAt, new lists empty."""
from datetime import datetime

from hypothesis import given
from hypothesis import strategies as st

from migration.engine import Quarantine, Write
from migration.engine.validation.schema import load_schema
from migration.engine.validation.validator import Validator
from migration.meeshy import SCHEMA_PATH
from migration.meeshy.transforms.users import migrate_user
from testing.legacy.hand_built import ABSENT, at, iso, legacy_user, oid

VALIDATOR = Validator(load_schema(SCHEMA_PATH))


def only_write(doc):
    outcomes = list(migrate_user(doc))
    assert len(outcomes) == 1 and isinstance(outcomes[0], Write), outcomes
    return outcomes[0].doc


def test_exact_output_of_a_clean_user():
    assert only_write(legacy_user(oid(1), role="MODO")) == {
        "_id": oid(1), "username": "user000001", "email": "user000001@example.org",
        "password": "$2b$10$abcdefghijklmnopqrstuv", "firstName": "Ada", "lastName": "Lovelace",
        "displayName": "Ada 000001", "role": "MODERATOR", "lastActiveAt": at(10),
        "systemLanguage": "fr", "regionalLanguage": "en", "isActive": True, "createdAt": at(0),
        "updatedAt": at(1), "blockedUserIds": [], "twoFactorBackupCodes": [],
        # Required by the target, absent from legacy users: the target's own defaults.
        "bio": "", "isOnline": False, "failedLoginAttempts": 0, "passwordResetAttempts": 0,
        "lockedUntil": None,  # an explicit null, as the gateway's own legacy migration writes it
    }


def test_roles_other_than_modo_are_kept():
    for role in ("USER", "ADMIN", "AUDIT", "ANALYST", "BIGBOSS"):
        assert only_write(legacy_user(oid(1), role=role))["role"] == role


def test_unknown_role_is_left_for_the_validator_to_quarantine():
    doc = only_write(legacy_user(oid(1), role="SUPERUSER"))
    assert any("role" in e for e in VALIDATOR.errors("User", doc))


def test_last_active_is_the_later_of_the_two_whichever_it_is():
    assert only_write(legacy_user(oid(1), lastSeen=at(5), lastActiveAt=at(9)))["lastActiveAt"] == at(9)
    assert only_write(legacy_user(oid(1), lastSeen=at(9), lastActiveAt=at(5)))["lastActiveAt"] == at(9)
    assert only_write(legacy_user(oid(1), lastSeen=ABSENT, lastActiveAt=at(7)))["lastActiveAt"] == at(7)
    assert only_write(legacy_user(oid(1), lastSeen=at(7), lastActiveAt=ABSENT))["lastActiveAt"] == at(7)


def test_no_presence_at_all_falls_back_to_creation():
    doc = only_write(legacy_user(oid(1), lastSeen=ABSENT, lastActiveAt=ABSENT))
    assert doc["lastActiveAt"] == at(0)


def test_iso_string_dates_become_dates():
    doc = only_write(legacy_user(oid(1), lastSeen=iso(at(30)), createdAt="2025-03-01T13:00:00.123+01:00"))
    assert doc["lastActiveAt"] == at(30)
    assert doc["createdAt"] == datetime(2025, 3, 1, 12, 0, 0, 123000)


def test_existing_lists_are_kept_and_string_ids_converted():
    doc = only_write(legacy_user(oid(1), blockedUserIds=[str(oid(2)), oid(3)], twoFactorBackupCodes=["h1"]))
    assert doc["blockedUserIds"] == [oid(2), oid(3)] and doc["twoFactorBackupCodes"] == ["h1"]


def test_absent_optional_fields_stay_absent():
    doc = only_write(legacy_user(oid(1), displayName=ABSENT))
    assert "displayName" not in doc and "avatar" not in doc and "customDestinationLanguage" not in doc


def test_unparseable_date_is_quarantined_naming_the_field():
    (outcome,) = migrate_user(legacy_user(oid(1), lastSeen="yesterday"))
    assert isinstance(outcome, Quarantine) and "lastSeen" in outcome.reason


moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)).map(
    lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000))
maybe_iso = st.one_of(moments.map(lambda d: (d, d)), moments.map(lambda d: (d, iso(d))))


@given(seen=st.none() | maybe_iso, active=st.none() | maybe_iso,
       role=st.sampled_from(["USER", "ADMIN", "MODO", "AUDIT", "ANALYST", "BIGBOSS"]))
def test_property_every_user_validates_with_the_latest_presence(seen, active, role):
    legacy = legacy_user(oid(4), role=role, lastSeen=ABSENT if seen is None else seen[1],
                         lastActiveAt=ABSENT if active is None else active[1])
    doc = only_write(legacy)
    expected = max([v[0] for v in (seen, active) if v is not None], default=at(0))
    assert doc["lastActiveAt"] == expected
    assert "lastSeen" not in doc and doc["role"] != "MODO"
    assert VALIDATOR.errors("User", doc) == []
    assert legacy["role"] == role  # the source document is never mutated
