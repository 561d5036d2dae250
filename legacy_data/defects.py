"""The ways real legacy documents deviate from their declared types, injected at given rates."""
from __future__ import annotations

import random
from datetime import datetime

from bson import ObjectId

ISO_DATE_RATE = 0.02       # dates written as ISO strings by an old code path
STRING_REF_RATE = 0.02     # references written as 24-hex strings instead of ObjectIds
INVALID_REF_RATE = 0.002   # references that are not ObjectIds at all


def iso_string(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def date_field(rng: random.Random, moment: datetime, rate: float = ISO_DATE_RATE):
    return iso_string(moment) if rng.random() < rate else moment


def ref_field(rng: random.Random, value: ObjectId, string_rate: float = STRING_REF_RATE,
              invalid_rate: float = 0.0):
    draw = rng.random()
    if draw < invalid_rate:
        return invalid_reference(rng)
    if draw < invalid_rate + string_rate:
        return str(value)
    return value


def invalid_reference(rng: random.Random) -> str:
    """Shapes seen in the wild: a username, a truncated hex id, an empty string."""
    return rng.choice(["deleted-user", f"{rng.getrandbits(64):016x}", "", "undefined"])
