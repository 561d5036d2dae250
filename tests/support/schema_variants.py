"""A target schema the migrated data does not satisfy: what a release whose image was built
from another schema looks like to the check before its containers start."""
from __future__ import annotations

import re

from migration.meeshy import SCHEMA_PATH

MISSING_FIELD = "releaseCheckProbe"   # no document of any dataset carries it


def schema_requiring_a_new_field(model: str = "User", field: str = MISSING_FIELD) -> str:
    """The project's target schema with a required String `field` added to `model`."""
    text = SCHEMA_PATH.read_text(encoding="utf-8")
    opening = re.compile(rf"^model {model} \{{\n", re.MULTILINE)
    if not opening.search(text):
        raise ValueError(f"the target schema has no model {model}")
    return opening.sub(lambda m: f"{m.group(0)}  {field} String\n", text, count=1)
