"""References to a user re-pointed to the user's Participant, where the target references a
Participant (the authors' migration re-points the same ones): Mention, CallParticipant and
TrackingLinkClick. A user without a membership in the conversation gets the same historical
Participant a message or a status of theirs would create (same derived id)."""
from __future__ import annotations

from migration.engine import Lookup, Quarantine, Write

from .coerce import Invalid, as_date, as_object_id, coerce_document, static_defaults
from .carry_rules import CALL_SESSION_DROPPED, CALL_SESSION_VALUES
from .lookups import checked
from .passthrough import carried_over
from .transforms_activity import message_conversation, resolve_user
from .transforms_participants import conversation_problem, id_time

MENTION_MAPPED = ("messageId", "mentionedUserId", "mentionedAt")
CALL_PARTICIPANT_MAPPED = ("callSessionId", "userId", "anonymousId", "role", "joinedAt", "leftAt",
                           "isAudioEnabled", "isVideoEnabled", "connectionQuality")
CLICK_REFERENCES = ("userId", "anonymousId")


def _reference(doc: dict, field: str):
    found = as_object_id(doc.get(field))
    if found is None:
        raise Invalid(f"{field} {doc.get(field)!r} is not an ObjectId reference")
    return found


def _written(out: dict, model_name: str, extra):
    """The outcomes of a re-pointed document: its historical Participant first, if any."""
    try:
        document = coerce_document(out, model_name)
    except Invalid as exc:
        return [Quarantine(str(exc))]
    return ([Write(extra, "Participant")] if extra is not None else []) + [Write(document)]


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
    yield from _written(out, "Mention", extra)


def call_conversation(doc: dict):
    """The conversation of a call session that migrates; None for one that is quarantined."""
    migrated = checked(lambda: carried_over(doc, "CallSession", dropped=CALL_SESSION_DROPPED,
                                            values=CALL_SESSION_VALUES), "CallSession")
    return None if migrated is None else migrated["conversationId"]


def _call_participant_id(doc: dict, conversation, ctx):
    """(participant, extra Participant, problem) for the user or anonymous one in the call."""
    if doc.get("userId") is not None and doc.get("anonymousId") is not None:
        return None, None, "has both userId and anonymousId"
    if doc.get("anonymousId") is not None:
        anonymous = _reference(doc, "anonymousId")
        if ctx.lookup("anonymous").get(anonymous, "missing") != conversation:
            return None, None, f"anonymous participant {anonymous} is not in conversation {conversation}"
        return anonymous, None, None
    return resolve_user(_reference(doc, "userId"), conversation, ctx)


def migrate_call_participant(doc: dict, ctx):
    try:
        call = _reference(doc, "callSessionId")
        conversation = ctx.lookup("calls").get(call, "missing")
        why = (f"call session {call} does not exist" if conversation == "missing" else
               f"call session {call} is quarantined" if conversation is None else
               conversation_problem(conversation, ctx))
        participant, extra, why = (None, None, why) if why else _call_participant_id(doc, conversation, ctx)
    except Invalid as exc:
        participant, extra, why = None, None, str(exc)
    if why:
        yield Quarantine(why)
        return
    out = {k: v for k, v in doc.items() if k not in ("userId", "anonymousId", "connectionQuality")}
    out.update(callSessionId=call, participantId=participant)
    if doc.get("connectionQuality") is not None:
        out["analytics"] = {"connectionQuality": doc["connectionQuality"]}
    for field, default in static_defaults("CallParticipant").items():
        out.setdefault(field, default)
    yield from _written(out, "CallParticipant", extra)


def migrate_click(doc: dict, ctx):
    """A click keeps who clicked only as a Participant: an anonymous one by its id, a user when
    the link belongs to a conversation (the target has no other field for it)."""
    out = {k: v for k, v in doc.items() if k not in CLICK_REFERENCES}
    extra = None
    anonymous, user = as_object_id(doc.get("anonymousId")), as_object_id(doc.get("userId"))
    conversation = ctx.lookup("link_conversations").get(as_object_id(doc.get("trackingLinkId")))
    if anonymous is not None and anonymous in ctx.lookup("anonymous"):
        out["participantId"] = anonymous
    elif user is not None and conversation is not None and not conversation_problem(conversation, ctx):
        participant, extra, why = resolve_user(user, conversation, ctx)
        if not why:
            out["participantId"] = participant
    for field, default in static_defaults("TrackingLinkClick").items():
        out.setdefault(field, default)
    yield from _written(out, "TrackingLinkClick", extra)


CALLS = Lookup("calls", "call_sessions", key="_id", value=call_conversation)
LINK_CONVERSATIONS = Lookup("link_conversations", "TrackingLink", key="_id",
                            value=lambda doc: as_object_id(doc.get("conversationId")))
