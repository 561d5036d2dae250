"""Reads and writes chat data the way the services of each schema do.

`legacy` is what production holds today: senders are Users, memberships live in
ConversationMember, translations in MessageTranslation, deletion is `isDeleted`.
`target` is the new schema: senders are Participants, translations are embedded in the Message,
deletion is `deletedAt`. A legacy stand-in pointed at migrated data fails the way the old
service would, which is what lets a rehearsal tell a real switch from a cosmetic one."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pymongo
from bson import ObjectId
from bson.errors import InvalidId

MAX_PAGE = 100
MAX_CONTENT = 10_000


class RequestError(Exception):
    """The caller's input or rights are wrong; carries the HTTP status to answer with."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


# The target Message's defaulted fields (migration/meeshy/schema.prisma): the real gateway's
# Prisma client writes each one, and a release's schema check refuses a message without them.
# As Meeshy's gateway writes a new message: `deletedAt` explicitly null, since its Prisma reads
# (`deletedAt: null`) do not match a message without the field (migration/meeshy/explicit_nulls.py).
TARGET_MESSAGE_DEFAULTS = {"messageSource": "user", "isViewOnce": False, "viewOnceCount": 0,
                           "isBlurred": False, "effectFlags": 0, "validatedMentions": [],
                           "reactionCount": 0, "isEncrypted": False, "deletedAt": None}


def object_id(raw: Any, field: str) -> ObjectId:
    try:
        return ObjectId(raw)
    except (InvalidId, TypeError):
        raise RequestError(400, f"{field} must be a 24-hex-digit ObjectId, got {raw!r}") from None


def page_size(raw: str | None) -> int:
    if raw is None:
        return 50
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise RequestError(400, f"limit must be an integer in 1..{MAX_PAGE}, got {raw!r}")
    return int(raw)


@dataclass(frozen=True)
class NewMessage:
    user_id: ObjectId
    content: str
    language: str

    @classmethod
    def from_body(cls, body: Any) -> "NewMessage":
        if not isinstance(body, dict):
            raise RequestError(400, "the body must be a JSON object {userId, content, "
                                    "originalLanguage?}")
        content = body.get("content")
        if not isinstance(content, str) or not content.strip() or len(content) > MAX_CONTENT:
            raise RequestError(400, f"content must be a non-empty string of at most "
                                    f"{MAX_CONTENT} characters")
        language = body.get("originalLanguage", "fr")
        if not isinstance(language, str) or not 2 <= len(language) <= 8:
            raise RequestError(400, f"originalLanguage must be a language code, got {language!r}")
        return cls(object_id(body.get("userId"), "userId"), content, language)


class Store:
    def __init__(self, database_url: str, schema: str, timeout: float = 2.0):
        self.schema = schema
        self.client = pymongo.MongoClient(database_url, serverSelectionTimeoutMS=int(timeout * 1000),
                                          connectTimeoutMS=int(timeout * 1000), tz_aware=True)
        # The database is the one the URL names, as for the real services (never a default).
        self.db = self.client.get_default_database()

    def close(self) -> None:
        self.client.close()

    def ping(self) -> bool:
        try:
            return self.db.command("ping").get("ok") == 1
        except pymongo.errors.PyMongoError:
            return False

    def conversations(self, limit: int) -> list[dict]:
        found = self.db.Conversation.find({}, {"title": 1, "type": 1, "identifier": 1,
                                               "createdAt": 1}).sort("_id", 1).limit(limit)
        return [{"id": c["_id"], "title": c.get("title"), "type": c.get("type"),
                 "identifier": c.get("identifier"), "createdAt": c.get("createdAt")}
                for c in found]

    def messages(self, conversation: ObjectId, limit: int) -> list[dict]:
        self._conversation_exists(conversation)
        alive = {"isDeleted": {"$ne": True}} if self.schema == "legacy" else {"deletedAt": None}
        docs = list(self.db.Message.find({"conversationId": conversation, **alive})
                    .sort([("createdAt", -1), ("_id", -1)]).limit(limit))
        translations = self._legacy_translations(docs) if self.schema == "legacy" else {}
        out = []
        for m in docs:
            if self.schema == "legacy":
                sender = m.get("senderId") or m.get("anonymousSenderId")
                texts = translations.get(m["_id"], {})
            else:
                sender = m.get("senderId")
                texts = {lang: t.get("text") for lang, t in (m.get("translations") or {}).items()
                         if isinstance(t, dict)}
            out.append({"id": m["_id"], "conversationId": m["conversationId"], "senderId": sender,
                        "content": m.get("content"), "originalLanguage": m.get("originalLanguage"),
                        "createdAt": m.get("createdAt"), "translations": texts})
        return out

    def post_message(self, conversation: ObjectId, new: NewMessage) -> dict:
        self._conversation_exists(conversation)
        now = dt.datetime.now(dt.timezone.utc)
        doc = {"conversationId": conversation, "content": new.content,
               "originalLanguage": new.language, "messageType": "text", "isEdited": False,
               "createdAt": now, "updatedAt": now}
        if self.schema == "legacy":
            member = self.db.ConversationMember.find_one(
                {"conversationId": conversation, "userId": new.user_id, "isActive": True})
            if member is None:
                raise RequestError(403, "the user is not an active member of this conversation")
            if member.get("canSendMessage") is False:
                raise RequestError(403, "this member may not send messages")
            doc.update(senderId=new.user_id, isDeleted=False)
        else:
            participant = self.db.Participant.find_one(
                {"conversationId": conversation, "userId": new.user_id, "type": "user",
                 "isActive": True})
            if participant is None:
                raise RequestError(403, "the user is not an active participant of this conversation")
            if (participant.get("permissions") or {}).get("canSendMessages") is False:
                raise RequestError(403, "this participant may not send messages")
            doc.update(TARGET_MESSAGE_DEFAULTS, senderId=participant["_id"], translations={})
        inserted = self.db.Message.insert_one(doc).inserted_id
        self.db.Conversation.update_one({"_id": conversation}, {"$set": {"lastMessageAt": now}})
        return {"id": inserted, "conversationId": conversation, "senderId": doc["senderId"],
                "createdAt": now}

    def _conversation_exists(self, conversation: ObjectId) -> None:
        if self.db.Conversation.count_documents({"_id": conversation}, limit=1) == 0:
            raise RequestError(404, f"conversation {conversation} does not exist")

    def _legacy_translations(self, messages: list[dict]) -> dict[ObjectId, dict[str, str]]:
        ids = [m["_id"] for m in messages]
        by_message: dict[ObjectId, dict[str, str]] = {}
        if not ids:
            return by_message
        for t in self.db.MessageTranslation.find({"messageId": {"$in": ids}}):
            by_message.setdefault(t["messageId"], {})[t.get("targetLanguage")] = \
                t.get("translatedContent")
        return by_message
