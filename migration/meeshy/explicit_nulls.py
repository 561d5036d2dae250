"""Optional fields written as an explicit `null` when the legacy document has no value.

Prisma's MongoDB connector matches `{field: null}` only where the field is present and null,
never where it is missing (prisma-engines `exclude_undefineds`; Prisma's docs: `isSet` for a
missing field). So a filter the gateway writes as `field: null` skips every migrated document
that leaves the field out, and `{field: {isSet: false}}` skips every one that writes a null:
which of the two a field needs is the gateway's own choice, read in its source
(meeshy-gateway-ea1789df2) and in the authors' migrations. The reasons are in README.md
("Explicit nulls"); a field not listed here stays absent when the legacy data has no value.
"""
from __future__ import annotations

EXPLICIT_NULLS = {
    # ~119 reads filter `deletedAt: null`; every creator writes it (LIVE_MESSAGE_MARK).
    "Message": ("deletedAt",),
    # The authors' migrate-to-participant-model.ts writes both as null; ban/unban write null.
    "Participant": ("leftAt", "bannedAt"),
    # The gateway's own migrate-from-legacy.ts writes `lockedUntil: null`.
    "User": ("lockedUntil",),
    # The write-once read receipt updates `where: {readAt: null}` (MessageReadStatusService).
    "MessageStatusEntry": ("readAt",),
}


def with_explicit_nulls(doc: dict, model_name: str) -> dict:
    """`doc` with each of the model's listed fields set to None where it is missing."""
    for field in EXPLICIT_NULLS.get(model_name, ()):
        doc.setdefault(field, None)
    return doc
