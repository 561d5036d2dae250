"""MessageStatus -> MessageStatusEntry and Reaction: the reader or reactor becomes a
Participant, and duplicates under the new unique keys are merged into the first of them."""
from __future__ import annotations

from migration.engine import Lookup, Merge, Quarantine, Write

from ..coerce import as_date, coerce_document, static_defaults
from ..compact import merge_packed, pack_group, pair_key, unpack_group
from ..lookups import earliest, merge_dates, reaction_key, reactor_field, status_key
from .messages import message_problem
from .participants import anonymous_problem, id_time, parent_quarantined, participant_for_user

STATUS_DATE_FIELDS = ("receivedAt", "readAt", "createdAt", "updatedAt")
STATUS_MAPPED = ("messageId", "userId") + STATUS_DATE_FIELDS
STATUS_DROPPED = {"conversationId": "the conversation of the status's message is the one written"}
# The anonymous reactor was `anonymousUserId` in the first legacy schema, `anonymousId` later.
ANONYMOUS_REACTOR = ("anonymousUserId", "anonymousId")
REACTION_MAPPED = ("messageId", "userId", "emoji", "createdAt", "updatedAt") + ANONYMOUS_REACTOR


def _date_problem(doc: dict, fields) -> str | None:
    for field in fields:
        if doc.get(field) is not None and as_date(doc[field]) is None:
            return f"{field}: {doc[field]!r} is not a date"
    return None


def status_local_problem(doc: dict) -> str | None:
    message, user = status_key(doc)
    if message is None:
        return f"messageId {doc.get('messageId')!r} is not an ObjectId reference"
    if user is None:
        return f"userId {doc.get('userId')!r} is not an ObjectId reference"
    return _date_problem(doc, STATUS_DATE_FIELDS)


def reaction_local_problem(doc: dict) -> str | None:
    if sum(doc.get(f) is not None for f in ("userId",) + ANONYMOUS_REACTOR) > 1:
        return "has more than one reactor (userId, anonymousUserId, anonymousId)"
    message, who, reactor, emoji = reaction_key(doc)
    if message is None:
        return f"messageId {doc.get('messageId')!r} is not an ObjectId reference"
    if reactor is None:
        field = reactor_field(doc)
        return f"{field} {doc.get(field)!r} is not an ObjectId reference"
    if not isinstance(emoji, str) or not emoji:
        return "emoji is missing"
    return _date_problem(doc, ("createdAt", "updatedAt"))


def _group_value(problem_of, dates_of):
    return lambda doc: None if problem_of(doc) else (doc["_id"],) + dates_of(doc)


def _merge_groups(old, new):
    return new if old is None else old if new is None else merge_dates(old, new)


def status_group_key(doc: dict):
    message, user = status_key(doc)
    return None if message is None or user is None else pair_key(message, user)


def status_group_value(doc: dict):
    if status_local_problem(doc):
        return None
    return pack_group(doc["_id"], as_date(doc.get("receivedAt")), as_date(doc.get("readAt")))


# One entry per (message, user) pair of the whole collection: packed as bytes (compact.py).
STATUS_GROUPS = Lookup("status_groups", "MessageStatus", key=status_group_key, value=status_group_value,
                       combine=merge_packed)
REACTION_GROUPS = Lookup("reaction_groups", "Reaction", key=reaction_key, combine=_merge_groups,
                         value=_group_value(reaction_local_problem, lambda d: (as_date(d.get("createdAt")),)))


def message_conversation(message_id, ctx):
    """(conversation id, None) for a message that migrates, else (None, why not)."""
    summary = ctx.lookup("messages").get(message_id)
    if summary is None:
        return None, f"message {message_id} does not exist"
    problem = message_problem(summary, ctx)
    if problem:
        return None, parent_quarantined("Message", message_id, problem)
    return summary[1], None


def resolve_user(user_id, conversation, ctx):
    participant, extra, problem = participant_for_user(conversation, user_id, ctx, deleted_allowed=False)
    if problem and problem.endswith("does not exist"):
        problem = f"user {user_id} no longer exists: there is no participant to attach it to"
    return participant, extra, problem


def earliest_read(read, key, ctx):
    """The status's readAt or its pair's earliest MessageReadStatus, whichever came first."""
    packed = ctx.lookup("read_statuses").get(key)
    return read if packed is None else earliest(read, unpack_group(packed)[1])


def status_transform(with_read_statuses: bool):
    """The MessageStatus rule; with the read statuses migrated, a pair's earliest
    MessageReadStatus.readAt counts as read too."""
    def transform(doc: dict, ctx):
        return migrate_status(doc, ctx, with_read_statuses)
    name = "migrate_status" + ("_and_reads" if with_read_statuses else "")
    transform.__name__ = transform.__qualname__ = name
    return transform


def reader_of(doc: dict, ctx) -> tuple:
    """(message, user, conversation, participant, historical Participant or None, problem) of a
    status or read status: the reader as a participant of the message's conversation."""
    problem = status_local_problem(doc)
    message_id, user_id = status_key(doc)
    conversation, why = (None, problem) if problem else message_conversation(message_id, ctx)
    participant, extra, why = (None, None, why) if why else resolve_user(user_id, conversation, ctx)
    return message_id, user_id, conversation, participant, extra, why


def migrate_status(doc: dict, ctx, with_read_statuses: bool = False):
    message_id, user_id, conversation, participant, extra, why = reader_of(doc, ctx)
    if why:
        yield Quarantine(why)
        return
    survivor, received, read = unpack_group(ctx.lookup("status_groups")[pair_key(message_id, user_id)])
    if survivor != doc["_id"]:
        yield Merge(survivor, f"duplicate status of participant {participant} on message {message_id}")
        return
    if with_read_statuses:
        read = earliest_read(read, pair_key(message_id, user_id), ctx)
    entry = {"_id": doc["_id"], "messageId": message_id, "conversationId": conversation,
             "participantId": participant}
    if received is not None:
        entry["receivedAt"] = received
    if read is not None:
        entry["readAt"] = read
    stamps = [d for d in (received, read) if d is not None]
    # Legacy statuses rarely carried their own stamps: the first event is when it was created.
    created = as_date(doc.get("createdAt")) or min(stamps, default=None) or id_time(doc["_id"])
    entry["createdAt"] = created
    entry["updatedAt"] = as_date(doc.get("updatedAt")) or max(stamps + [created])
    entry.update(static_defaults("MessageStatusEntry"))
    if extra is not None:
        yield Write(extra, "Participant")
    yield Write(coerce_document(entry, "MessageStatusEntry"))


def migrate_reaction(doc: dict, ctx):
    problem = reaction_local_problem(doc)
    message_id, who, reactor, emoji = reaction_key(doc)
    conversation, why = (None, problem) if problem else message_conversation(message_id, ctx)
    extra = None
    if why:
        participant = None
    elif who == "userId":
        participant, extra, why = resolve_user(reactor, conversation, ctx)
    else:
        participant, why = reactor, anonymous_problem(reactor, conversation, ctx)
    if why:
        yield Quarantine(why)
        return
    survivor, created = ctx.lookup("reaction_groups")[(message_id, who, reactor, emoji)]
    if survivor != doc["_id"]:
        yield Merge(survivor, f"duplicate {emoji} reaction of participant {participant} "
                              f"on message {message_id}")
        return
    reaction = {"_id": doc["_id"], "messageId": message_id, "participantId": participant, "emoji": emoji,
                "createdAt": created or id_time(doc["_id"])}
    # Required by the target: a reaction never updated was last updated when it was made.
    reaction["updatedAt"] = doc["updatedAt"] if doc.get("updatedAt") is not None else reaction["createdAt"]
    if extra is not None:
        yield Write(extra, "Participant")
    yield Write(coerce_document(reaction, "Reaction"))
