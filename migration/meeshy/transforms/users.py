"""User: MODO becomes MODERATOR, presence lives in lastActiveAt alone, new lists start empty."""
from __future__ import annotations

from migration.engine import Quarantine, Write

from ..coerce import Invalid, coerce_document, date, fill_timestamps, static_defaults

LEGACY_ROLE_NAMES = {"MODO": "MODERATOR"}
_TRANSLATION_FLAG = ("a translation setting the target User no longer has (the services keep "
                     "translation settings in user_preferences, created with their defaults)")
USER_DROPPED = {"lastSeen": "folded into lastActiveAt (the later of the two)",
                "encryptionPreference": "the target has no per-user encryption preference "
                                        "(encryption is per conversation: Conversation.encryptionMode)",
                **{f: _TRANSLATION_FLAG for f in ("autoTranslateEnabled", "translateToSystemLanguage",
                                                  "translateToRegionalLanguage", "useCustomDestination")}}


def migrate_user_document(doc: dict) -> dict:
    out = {k: v for k, v in doc.items() if k not in USER_DROPPED}
    if out.get("role") in LEGACY_ROLE_NAMES:
        out["role"] = LEGACY_ROLE_NAMES[out["role"]]
    presence = [date(doc[f], f) for f in ("lastSeen", "lastActiveAt") if doc.get(f) is not None]
    if presence:
        out["lastActiveAt"] = max(presence)
    else:
        # No presence was ever recorded: the account's creation is its last known activity.
        out["lastActiveAt"] = fill_timestamps(dict(doc), "User").get("createdAt")
    for field, default in static_defaults("User").items():
        out.setdefault(field, default)
    return coerce_document(fill_timestamps(out, "User"), "User")


def migrate_user(doc: dict, ctx=None):
    try:
        yield Write(migrate_user_document(doc))
    except Invalid as exc:
        yield Quarantine(str(exc))
