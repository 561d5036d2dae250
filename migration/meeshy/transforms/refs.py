"""References to a user re-pointed to the user's Participant, where the target references a
Participant (the authors' migration re-points the same ones): Mention, CallParticipant and
TrackingLinkClick. A user without a membership in the conversation gets the same historical
Participant a message or a status of theirs would create (same derived id)."""
from __future__ import annotations

from migration.engine import CollectionRule, Lookup, Quarantine

from ..carry_rules import CALL_SESSION_DROPPED, CALL_SESSION_VALUES
from ..coerce import Invalid, as_date, as_object_id, static_defaults
from ..lookups import ANONYMOUS, CONVERSATIONS, MEMBERSHIPS, USERS, checked
from ..passthrough import carried_over
from .activity import message_conversation, resolve_user
from .participants import conversation_problem, id_time, parent_quarantined
from .repoint import participant_of, written

MENTION_MAPPED = ("messageId", "mentionedUserId", "mentionedAt")
CALL_PARTICIPANT_MAPPED = ("callSessionId", "userId", "anonymousId", "role", "joinedAt", "leftAt",
                           "isAudioEnabled", "isVideoEnabled", "connectionQuality")
CLICK_REFERENCES = ("userId", "anonymousId")


def _reference(doc: dict, field: str):
    found = as_object_id(doc.get(field))
    if found is None:
        raise Invalid(f"{field} {doc.get(field)!r} is not an ObjectId reference")
    return found


def migrate_mention(doc: dict, ctx):
    try:
        message_id, user_id = _reference(doc, "messageId"), _reference(doc, "mentionedUserId")
    except Invalid as exc:
        yield Quarantine(str(exc))
        return
    conversation, why = message_conversation(message_id, ctx)
    participant, extra, why = (None, None, why) if why else resolve_user(user_id, conversation, ctx)
    if why:
        yield Quarantine(why)
        return
    mentioned = as_date(doc.get("mentionedAt")) if doc.get("mentionedAt") is not None else id_time(doc["_id"])
    out = {"_id": doc["_id"], "messageId": message_id, "mentionedParticipantId": participant,
           "mentionedAt": mentioned if mentioned is not None else doc.get("mentionedAt")}
    yield from written(out, "Mention", extra)


def call_conversation(doc: dict):
    """The conversation of a call session that migrates; None for one that is quarantined."""
    migrated = checked(lambda: carried_over(doc, "CallSession", dropped=CALL_SESSION_DROPPED,
                                            values=CALL_SESSION_VALUES), "CallSession")
    return None if migrated is None else migrated["conversationId"]


def call_participant_rule(source: str, calls: Lookup) -> CollectionRule:
    """The CallParticipant rule of a call-participant collection whose sessions `calls` holds."""
    return CollectionRule(source=source, target="CallParticipant",
                          transform=call_participant_transform(calls.name), mapped=CALL_PARTICIPANT_MAPPED,
                          lookups=(USERS, CONVERSATIONS, MEMBERSHIPS, ANONYMOUS, calls),
                          also_writes=("Participant",))


def call_participant_transform(calls: str):
    """The CallParticipant rule of a call-participant collection whose sessions the lookup
    `calls` holds (the collection was renamed between the legacy schemas)."""
    def transform(doc: dict, ctx):
        return migrate_call_participant(doc, ctx, calls)
    transform.__name__ = transform.__qualname__ = f"migrate_call_participant_{calls}"
    return transform


def call_of(doc: dict, ctx, calls: str):
    """(conversation, problem) of a call participant: its call session's conversation."""
    call = as_object_id(doc.get("callSessionId"))
    if call is None:
        return None, f"callSessionId {doc.get('callSessionId')!r} is not an ObjectId reference"
    conversation = ctx.lookup(calls).get(call, "missing")
    if conversation == "missing":
        return None, f"call session {call} does not exist"
    if conversation is None:
        return None, parent_quarantined(CALL_SESSIONS[calls], call)
    return conversation, conversation_problem(conversation, ctx)


def migrate_call_participant(doc: dict, ctx, calls: str = "calls"):
    conversation, why = call_of(doc, ctx, calls)
    participant, extra, why = (None, None, why) if why else participant_of(doc, conversation, ctx)
    if why:
        yield Quarantine(why)
        return
    call = as_object_id(doc["callSessionId"])
    out = {k: v for k, v in doc.items() if k not in ("userId", "anonymousId", "connectionQuality")}
    out.update(callSessionId=call, participantId=participant)
    if doc.get("connectionQuality") is not None:
        out["analytics"] = {"connectionQuality": doc["connectionQuality"]}
    for field, default in static_defaults("CallParticipant").items():
        out.setdefault(field, default)
    yield from written(out, "CallParticipant", extra)


def migrate_click(doc: dict, ctx):
    """A click keeps who clicked only as a Participant: an anonymous one by its id, a user when
    the link belongs to a conversation (the target has no other field for it)."""
    out = {k: v for k, v in doc.items() if k not in CLICK_REFERENCES}
    extra = None
    anonymous, user = as_object_id(doc.get("anonymousId")), as_object_id(doc.get("userId"))
    conversation = ctx.lookup("link_conversations").get(as_object_id(doc.get("trackingLinkId")))
    if anonymous is not None and ctx.lookup("anonymous").get(anonymous) is not None:  # migrates
        out["participantId"] = anonymous
    elif user is not None and conversation is not None and not conversation_problem(conversation, ctx):
        participant, extra, why = resolve_user(user, conversation, ctx)
        if not why:
            out["participantId"] = participant
    for field, default in static_defaults("TrackingLinkClick").items():
        out.setdefault(field, default)
    yield from written(out, "TrackingLinkClick", extra)


CALLS = Lookup("calls", "call_sessions", key="_id", value=call_conversation)
# The second legacy schema stores call sessions under their model's name.
LATE_CALLS = Lookup("late_calls", "CallSession", key="_id", value=call_conversation)
CALL_SESSIONS = {lookup.name: lookup.collection for lookup in (CALLS, LATE_CALLS)}
LINK_CONVERSATIONS = Lookup("link_conversations", "TrackingLink", key="_id",
                            value=lambda doc: as_object_id(doc.get("conversationId")))
