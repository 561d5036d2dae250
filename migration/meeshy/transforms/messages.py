"""Message: the sender becomes a Participant, isDeleted folds into deletedAt, and the
MessageTranslation documents are embedded as `translations` (the latest per language)."""
from __future__ import annotations

from migration.engine import Lookup, Merge, Quarantine, Write

from ..coerce import Invalid, as_date, as_object_id, coerce_document, fill_timestamps, static_defaults
from ..lookups import latest, message_summary, target_validator, translation_key, translation_rank
from .participants import (
    anonymous_problem,
    conversation_problem,
    parent_quarantined,
    participant_for_user,
    user_problem,
)

_COUNTER = "a denormalised delivery/read counter: the target derives it from MessageStatusEntry"
# Read by the transform but not written under their own name.
MESSAGE_FOLDED = {"isDeleted": "folded into deletedAt, the only soft-delete mark",
                  "anonymousSenderId": "replaced by senderId, a Participant"}
MESSAGE_DROPPED = {f: _COUNTER for f in ("deliveredCount", "readCount", "deliveredToAllAt",
                                         "readByAllAt", "receivedByAllAt")}
MESSAGE_DATE_FIELDS = ("createdAt", "updatedAt", "editedAt", "deletedAt")
TRANSLATION_DROPPED = {"sourceLanguage": "the message's originalLanguage says it",
                       "cacheKey": "a translator cache key, rebuilt on demand"}
# An encrypted translation keeps its encryption envelope inside its embedded entry (Json).
TRANSLATION_ENCRYPTION = ("isEncrypted", "encryptionKeyId", "encryptionIv", "encryptionAuthTag")
TRANSLATION_MAPPED = ("messageId", "targetLanguage", "translatedContent", "translationModel",
                      "confidenceScore", "createdAt", "updatedAt") + TRANSLATION_ENCRYPTION


def message_local_problem(doc: dict) -> str | None:
    """What keeps a message from migrating, judged on the document alone."""
    for field in MESSAGE_DATE_FIELDS:
        if doc.get(field) is not None and as_date(doc[field]) is None:
            return f"{field}: {doc[field]!r} is not a date"
    if doc.get("replyToId") is not None and as_object_id(doc["replyToId"]) is None:
        return f"replyToId: {doc['replyToId']!r} is not an ObjectId reference"
    if doc.get("isDeleted") is False and doc.get("deletedAt") is not None:
        return "isDeleted is false but deletedAt is set: which one is right cannot be told"
    conversation, sender = message_summary(doc)
    if conversation is None:
        return f"conversationId {doc.get('conversationId')!r} is not an ObjectId reference"
    if sender[0] == "invalid":
        return sender[1]
    return shape_problem(doc, conversation)


def message_problem(summary, ctx) -> str | None:
    """What keeps a message from migrating once the other collections are known."""
    local, conversation, sender = summary
    if local:
        return local
    problem = conversation_problem(conversation, ctx)
    if problem:
        return problem
    if sender[0] == "user" and sender[1] in ctx.lookup("users"):
        return user_problem(sender[1], ctx)  # a user that is gone has the "Deleted user" participant
    if sender[0] == "anonymous":
        return anonymous_problem(sender[1], conversation, ctx)
    return None


def message_fate(doc: dict) -> tuple:
    """The compact summary the other rules look messages up by: (problem, conversation, sender)."""
    return (message_local_problem(doc),) + message_summary(doc)


def translation_problem(doc: dict) -> str | None:
    if as_object_id(doc.get("messageId")) is None:
        return f"messageId {doc.get('messageId')!r} is not an ObjectId reference"
    language = doc.get("targetLanguage")
    if not isinstance(language, str) or not language or "." in language or language.startswith("$"):
        return f"targetLanguage {language!r} cannot be a key of Message.translations"
    for field in ("translatedContent", "translationModel"):
        if not isinstance(doc.get(field), str):
            return f"{field} is missing"
    for field in ("createdAt", "updatedAt"):
        if as_date(doc.get(field)) is None:
            return f"{field}: {doc.get(field)!r} is not a date"
    return None


def embedded_translations(translations: list) -> dict | None:
    """{targetLanguage: entry}, keeping per language the translation ranked latest."""
    winners: dict = {}
    for t in translations:
        if translation_problem(t) is None:
            rank = translation_rank(t)
            current = winners.get(t["targetLanguage"])
            if current is None or rank > translation_rank(current):
                winners[t["targetLanguage"]] = t
    if not winners:
        return None
    out = {}
    for language in sorted(winners):
        t = winners[language]
        entry = {"text": t["translatedContent"], "translationModel": t["translationModel"]}
        for field in ("confidenceScore",) + TRANSLATION_ENCRYPTION:
            if t.get(field) is not None:
                entry[field] = t[field]
        for field in ("createdAt", "updatedAt"):
            entry[field] = iso_string(as_date(t[field]))
        out[language] = entry
    return out


def iso_string(moment) -> str:
    """A date as the gateway stores it inside `translations` (Json): a JS Date's toISOString(),
    e.g. "2026-01-25T10:00:00.000Z". A BSON date there reaches the gateway as {"$date": ...},
    which its response schema refuses (500)."""
    return (f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:"
            f"{moment.minute:02d}:{moment.second:02d}.{moment.microsecond // 1000:03d}Z")


def message_document(doc: dict, conversation, sender, translations=()) -> dict:
    """The target Message of a legacy one whose conversation and sender are resolved."""
    out = {k: v for k, v in doc.items() if k not in MESSAGE_FOLDED and k not in MESSAGE_DROPPED}
    out["conversationId"], out["senderId"] = conversation, sender
    for field, default in static_defaults("Message").items():
        out.setdefault(field, default)
    fill_timestamps(out, "Message")  # updatedAt absent: createdAt
    if doc.get("isDeleted") and doc.get("deletedAt") is None:
        out["deletedAt"] = out.get("updatedAt")
    embedded = embedded_translations(translations)
    if embedded:
        out["translations"] = embedded
    return coerce_document(out, "Message")


def shape_problem(doc: dict, conversation) -> str | None:
    """Why the target schema would refuse this message whoever its sender turns out to be."""
    try:
        migrated = message_document(doc, conversation, conversation)  # any ObjectId as the sender
    except Invalid as exc:
        return str(exc)
    errors = target_validator().errors("Message", migrated)
    return errors[0] if errors else None


def migrate_message(doc: dict, ctx):
    summary = message_fate(doc)
    problem = message_problem(summary, ctx)
    if problem:
        yield Quarantine(problem)
        return
    _, conversation, (kind, sender) = summary
    extra = None
    if kind == "user":
        sender, extra, problem = participant_for_user(conversation, sender, ctx, deleted_allowed=True)
        if problem:
            yield Quarantine(problem)
            return
    try:
        message = message_document(doc, conversation, sender, ctx.children("translations"))
    except Invalid as exc:
        yield Quarantine(str(exc))
        return
    if extra is not None:
        yield Write(extra, "Participant")
    yield Write(message)


def migrate_translation(doc: dict, ctx):
    """Accounting of MessageTranslation: each one is merged into its message or quarantined."""
    problem = translation_problem(doc)
    if problem:
        yield Quarantine(problem)
        return
    message_id, language = as_object_id(doc["messageId"]), doc["targetLanguage"]
    summary = ctx.lookup("messages").get(message_id)
    if summary is None:
        yield Quarantine(f"message {message_id} does not exist")
        return
    problem = message_problem(summary, ctx)
    if problem:
        yield Quarantine(parent_quarantined("Message", message_id, problem))
        return
    winner = ctx.lookup("translation_winners")[(message_id, language)]
    if winner[1] == doc["_id"]:
        yield Merge(message_id, f"embedded as Message.translations.{language}")
    else:
        yield Merge(message_id, f"superseded by translation {winner[1]} for {language!r} (later updatedAt)")


def usable_translation_rank(doc: dict):
    return None if translation_problem(doc) else translation_rank(doc)


MESSAGES = Lookup("messages", "Message", key="_id", value=message_fate)
TRANSLATION_WINNERS = Lookup("translation_winners", "MessageTranslation", key=translation_key,
                             value=usable_translation_rank, combine=latest)
