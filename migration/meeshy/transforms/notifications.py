"""Notification: the flat legacy fields become actor / context / metadata / delivery.

The target declares those four as Json, which Prisma reads as plain JSON: references inside
them are stored as 24-hex strings (what the services write there), not as ObjectIds; the
message a notification is about is also kept in the top-level `messageId` the target declares.
"""
from __future__ import annotations

import json

from migration.engine import Quarantine, Write

from ..coerce import Invalid, as_object_id, coerce_document, fill_timestamps, static_defaults

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


def _json_reference(value, path: str) -> str:
    """A reference as Prisma's Json holds it: the ObjectId's hex string."""
    found = as_object_id(value)
    if found is None:
        raise Invalid(f"{path}: {value!r} is not an ObjectId reference")
    return str(found)


def _json_fields(doc: dict, names: dict, parent: str) -> dict:
    """{target name: value} of the legacy fields present; references (ids) as hex strings."""
    out = {}
    for source, target in names.items():
        if doc.get(source) is not None:
            is_reference = target == "id" or target.endswith("Id")
            out[target] = _json_reference(doc[source], f"{parent}.{target}") if is_reference else doc[source]
    return out


def migrate_notification_document(doc: dict) -> dict:
    out = {"_id": doc["_id"]}
    out.update({f: doc[f] for f in KEPT_FIELDS if f in doc})
    actor = _json_fields(doc, ACTOR_FIELDS, "actor")
    if actor:
        out["actor"] = actor
    context = _json_fields(doc, {f: f for f in CONTEXT_FIELDS}, "context")
    if context:
        out["context"] = context
    if as_object_id(doc.get("messageId")) is not None:
        out["messageId"] = doc["messageId"]
    if "data" in doc:
        out["metadata"] = metadata_from_data(doc["data"])
    # Absent flags: not sent, the target's default ({"emailSent": false, "pushSent": false}).
    out["delivery"] = {f: bool(doc.get(f, False)) for f in DELIVERY_FIELDS}
    for field, default in static_defaults("Notification").items():
        out.setdefault(field, default)
    return coerce_document(fill_timestamps(out, "Notification"), "Notification")


def migrate_notification(doc: dict, ctx=None):
    try:
        yield Write(migrate_notification_document(doc))
    except Invalid as exc:
        yield Quarantine(str(exc))
