"""Notification: the flat legacy fields become actor / context / metadata / delivery."""
from __future__ import annotations

import json

from migration.engine import Quarantine, Write

from .coerce import Invalid, coerce_document, fill_timestamps, static_defaults

ACTOR_FIELDS = {"senderId": "id", "senderUsername": "username", "senderAvatar": "avatar",
                "senderDisplayName": "displayName", "senderFirstName": "firstName",
                "senderLastName": "lastName"}
CONTEXT_FIELDS = ("conversationId", "messageId", "callSessionId", "messagePreview")
DELIVERY_FIELDS = ("emailSent", "pushSent")
KEPT_FIELDS = ("userId", "type", "title", "content", "priority", "isRead", "readAt", "expiresAt",
               "createdAt")
NOTIFICATION_MAPPED = KEPT_FIELDS + tuple(ACTOR_FIELDS) + CONTEXT_FIELDS + DELIVERY_FIELDS + ("data",)


def metadata_from_data(data):
    """The parsed `data`; text that is not JSON is kept whole under "raw" rather than lost."""
    if not isinstance(data, str):
        return data
    try:
        return json.loads(data)
    except ValueError:
        return {"raw": data}


def migrate_notification_document(doc: dict) -> dict:
    out = {"_id": doc["_id"]}
    out.update({f: doc[f] for f in KEPT_FIELDS if f in doc})
    actor = {target: doc[source] for source, target in ACTOR_FIELDS.items() if doc.get(source) is not None}
    if actor:
        out["actor"] = actor
    context = {f: doc[f] for f in CONTEXT_FIELDS if doc.get(f) is not None}
    if context:
        out["context"] = context
    if "data" in doc:
        out["metadata"] = metadata_from_data(doc["data"])
    delivery_defaults = static_defaults("NotificationDelivery")
    out["delivery"] = {f: bool(doc.get(f, delivery_defaults[f])) for f in DELIVERY_FIELDS}
    for field, default in static_defaults("Notification").items():
        out.setdefault(field, default)
    return coerce_document(fill_timestamps(out, "Notification"), "Notification")


def migrate_notification(doc: dict, ctx=None):
    try:
        yield Write(migrate_notification_document(doc))
    except Invalid as exc:
        yield Quarantine(str(exc))
