"""MessageReadStatus -> MessageStatusEntry (the operators' decision: migrate it where the target
has a model for it). A read status of a (message, reader) pair that also has a MessageStatus is
folded into that status entry (the earlier readAt wins) and counted merged; one without gets
its own entry, its duplicates merged into the first."""
from __future__ import annotations

from migration.engine import Lookup, Merge, Quarantine, Write

from ..coerce import as_date, coerce_document, static_defaults
from ..compact import merge_packed, pack_group, unpack_group
from .activity import reader_of, status_group_key, status_local_problem
from .participants import id_time


def read_status_value(doc: dict):
    if status_local_problem(doc):
        return None
    return pack_group(doc["_id"], as_date(doc.get("readAt")))


READ_STATUSES = Lookup("read_statuses", "MessageReadStatus", key=status_group_key, value=read_status_value,
                       combine=merge_packed)


def migrate_read_status(doc: dict, ctx):
    message_id, _, conversation, participant, extra, why = reader_of(doc, ctx)
    if why:
        yield Quarantine(why)
        return
    key = status_group_key(doc)
    status = ctx.lookup("status_groups").get(key)
    if status is not None:
        yield Merge(unpack_group(status)[0], f"read time folded into the status of participant {participant} "
                                             f"on message {message_id}")
        return
    first, read = unpack_group(ctx.lookup("read_statuses")[key])
    if first != doc["_id"]:
        yield Merge(first, f"duplicate read status of participant {participant} on message {message_id}")
        return
    moment = read or id_time(doc["_id"])
    entry = {"_id": doc["_id"], "messageId": message_id, "conversationId": conversation,
             "participantId": participant, "createdAt": moment, "updatedAt": moment}
    if read is not None:
        entry["readAt"] = read
    entry.update(static_defaults("MessageStatusEntry"))
    if extra is not None:
        yield Write(extra, "Participant")
    yield Write(coerce_document(entry, "MessageStatusEntry"))
