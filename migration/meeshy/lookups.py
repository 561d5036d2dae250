"""The compact maps the Meeshy rules consult, built by the engine from source collections.

Each `Lookup` names a key and a value function over one legacy collection; several documents
with one key are folded by `combine`, in `_id` order. Values are kept small (ids, a few dates,
short tuples) because these maps are held in memory for a whole rule.
"""
from __future__ import annotations

import functools

from migration.engine import Lookup
from migration.engine.hashing import sort_key
from migration.engine.validation.validator import Validator

from .carry_rules import CONVERSATION_DROPPED, CONVERSATION_RENAMED
from .coerce import Invalid, as_date, as_object_id, target_schema
from .passthrough import carried_over
from .transforms.users import migrate_user_document


def _ref_pair(doc: dict, first: str, second: str):
    return as_object_id(doc.get(first)), as_object_id(doc.get(second))


@functools.lru_cache(maxsize=None)
def target_validator() -> Validator:
    """One validator of the target schema, shared by every lookup and transform."""
    return Validator(target_schema())


def checked(make, model_name: str):
    """The document `make()` migrates to, or None when its rule would quarantine it."""
    try:
        migrated = make()
    except Invalid:
        return None
    return None if target_validator().errors(model_name, migrated) else migrated


def user_profile(doc: dict):
    """(displayName, username, firstName, lastName, avatar, systemLanguage, lastActiveAt) of a
    user that migrates; None for one the User rule quarantines (what refers to it waits for it)."""
    migrated = checked(lambda: migrate_user_document(doc), "User")
    if migrated is None:
        return None
    return (doc.get("displayName"), doc.get("username"), doc.get("firstName"), doc.get("lastName"),
            doc.get("avatar"), doc.get("systemLanguage"), migrated.get("lastActiveAt"))


def conversation_created(doc: dict):
    """The creation date of a conversation that migrates; None for one that is quarantined."""
    migrated = checked(lambda: carried_over(doc, "Conversation", CONVERSATION_RENAMED,
                                            CONVERSATION_DROPPED), "Conversation")
    return None if migrated is None else migrated.get("createdAt")


def membership_key(doc: dict):
    return _ref_pair(doc, "conversationId", "userId")


def _concat(old: tuple, new: tuple) -> tuple:
    return old + new


def message_summary(doc: dict) -> tuple:
    """(conversationId or None, sender) where sender is ("user", id), ("anonymous", id) or
    ("invalid", reason): all a dependent document needs to know where its message lands."""
    conversation = as_object_id(doc.get("conversationId"))
    has_user, has_anonymous = doc.get("senderId") is not None, doc.get("anonymousSenderId") is not None
    if has_user and has_anonymous:
        return conversation, ("invalid", "has both senderId and anonymousSenderId")
    if not has_user and not has_anonymous:
        return conversation, ("invalid", "has no sender")
    field = "senderId" if has_user else "anonymousSenderId"
    sender = as_object_id(doc[field])
    if sender is None:
        return conversation, ("invalid", f"{field} {doc[field]!r} is not an ObjectId reference")
    return conversation, ("user" if has_user else "anonymous", sender)


def translation_key(doc: dict):
    return as_object_id(doc.get("messageId")), doc.get("targetLanguage")


def translation_rank(doc: dict):
    """The order in which translations of one message and language supersede each other:
    latest updatedAt, then the larger _id (a deterministic tie-break). None: unusable."""
    updated = as_date(doc.get("updatedAt"))
    return None if updated is None else (updated, doc["_id"])


def latest(old, new):
    if old is None or new is None:
        return old if new is None else new
    return max(old, new, key=lambda rank: (rank[0], sort_key(rank[1])))


def status_key(doc: dict):
    return _ref_pair(doc, "messageId", "userId")


def reactor_field(doc: dict) -> str:
    """The field naming who reacted (an anonymous one had two names across legacy versions)."""
    return next((f for f in ("userId", "anonymousUserId", "anonymousId") if doc.get(f) is not None),
                "userId")


def reaction_key(doc: dict):
    """(message, "userId" or "anonymous", reactor, emoji): one key per target reaction."""
    field = reactor_field(doc)
    kind = "userId" if field == "userId" else "anonymous"
    return as_object_id(doc.get("messageId")), kind, as_object_id(doc.get(field)), doc.get("emoji")


def earliest(a, b):
    return b if a is None else a if b is None else min(a, b)


def merge_dates(old: tuple, new: tuple) -> tuple:
    """Keep the first survivor id; each date is the earliest one any duplicate carries."""
    return (old[0],) + tuple(earliest(a, b) for a, b in zip(old[1:], new[1:]))


USERS = Lookup("users", "User", key="_id", value=user_profile)
CONVERSATIONS = Lookup("conversations", "Conversation", key="_id", value=conversation_created)
# Whole membership documents grouped by (conversation, user): duplicates are merged from them.
MEMBERSHIPS = Lookup("memberships", "ConversationMember", key=membership_key,
                     value=lambda doc: (doc,), combine=_concat)
def anonymous_owner(doc: dict):
    """The conversation of an anonymous participant that migrates; None for one its rule
    quarantines (no session token, a bad date: what it wrote or reacted follows it)."""
    from .transforms.participants import anonymous_document  # that module builds on this one
    migrated = checked(lambda: anonymous_document(doc), "Participant")
    return None if migrated is None else migrated["conversationId"]


ANONYMOUS = Lookup("anonymous", "AnonymousParticipant", key="_id", value=anonymous_owner)


def materialize(lookup: Lookup, documents) -> dict:
    """The mapping the engine builds for `lookup` (for pure tests with in-memory documents)."""
    def extract(spec, doc):
        if callable(spec):
            return spec(doc)
        if isinstance(spec, tuple):
            return tuple(doc.get(f) for f in spec)
        return doc.get(spec)

    out: dict = {}
    for doc in sorted(documents, key=lambda d: sort_key(d["_id"])):
        key = extract(lookup.key, doc)
        value = True if lookup.value is None else extract(lookup.value, doc)
        if key in out:
            if lookup.combine is not None:
                out[key] = lookup.combine(out[key], value)
        else:
            out[key] = value
    return out
