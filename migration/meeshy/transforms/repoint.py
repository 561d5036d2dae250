"""Collections the second legacy schema added with a user *or* an anonymous participant
(userId / anonymousId), re-pointed to one participantId as the authors' migration does for
MessageStatusEntry, ConversationReadCursor, AttachmentStatusEntry, AttachmentReaction and
CallParticipant. Production's snapshot holds none of them; documents written by the versions
between the two legacy schemas may."""
from __future__ import annotations

from migration.engine import CollectionRule, Quarantine, Write

from ..coerce import Invalid, as_object_id, coerce_document, model, static_defaults
from ..lookups import ANONYMOUS, CONVERSATIONS, MEMBERSHIPS, USERS
from ..passthrough import carried_over
from .activity import message_conversation, resolve_user
from .participants import anonymous_problem, conversation_problem

WHO = ("userId", "anonymousId")


def written(out: dict, model_name: str, extra):
    """The outcomes of a re-pointed document: its historical Participant first, if any."""
    try:
        document = coerce_document(out, model_name)
    except Invalid as exc:
        return [Quarantine(str(exc))]
    return ([Write(extra, "Participant")] if extra is not None else []) + [Write(document)]


def conversation_of(doc: dict, ctx):
    """(conversation, problem): the document's own conversationId, else its message's."""
    if doc.get("conversationId") is not None:
        conversation = as_object_id(doc["conversationId"])
        if conversation is None:
            return None, f"conversationId {doc['conversationId']!r} is not an ObjectId reference"
        return conversation, conversation_problem(conversation, ctx)
    message = as_object_id(doc.get("messageId"))
    if message is None:
        return None, f"messageId {doc.get('messageId')!r} is not an ObjectId reference"
    return message_conversation(message, ctx)


def participant_of(doc: dict, conversation, ctx):
    """(participant, historical Participant or None, problem) for userId or anonymousId."""
    present = [f for f in WHO if doc.get(f) is not None]
    if len(present) != 1:
        why = "has both userId and anonymousId" if present else "has neither userId nor anonymousId"
        return None, None, why
    reference = as_object_id(doc[present[0]])
    if reference is None:
        return None, None, f"{present[0]} {doc[present[0]]!r} is not an ObjectId reference"
    if present[0] == "userId":
        return resolve_user(reference, conversation, ctx)
    why = anonymous_problem(reference, conversation, ctx)
    return (None, None, why) if why else (reference, None, None)


def repointed_rule(source: str, model_name: str, extra_lookups=(), conversation=conversation_of,
                   renamed=None, dropped=None) -> CollectionRule:
    """`source` documents as `model_name` ones, userId/anonymousId replaced by participantId."""
    def transform(doc: dict, ctx):
        where, why = conversation(doc, ctx)
        participant, extra, why = (None, None, why) if why else participant_of(doc, where, ctx)
        if why:
            yield Quarantine(why)
            return
        try:
            kept = {k: v for k, v in doc.items() if k not in WHO}
            out = carried_over(kept, model_name, renamed, dropped or {})
        except Invalid as exc:
            yield Quarantine(str(exc))
            return
        out["participantId"] = participant
        for field, default in static_defaults(model_name).items():
            out.setdefault(field, default)
        yield from written(out, model_name, extra)

    transform.__name__ = transform.__qualname__ = f"repoint_{source}"
    target = model(model_name)
    mapped = tuple(k for k, f in target.fields.items() if not f.is_id) + WHO + tuple(renamed or ())
    return CollectionRule(source=source, target=target.collection, transform=transform, mapped=mapped,
                          dropped=dict(dropped or {}), also_writes=("Participant",),
                          lookups=(USERS, CONVERSATIONS, MEMBERSHIPS, ANONYMOUS) + tuple(extra_lookups))
