"""Tiny hand-built legacy documents for rule tests.

Every builder returns one document in the legacy shape (migration/meeshy/legacy/) with
the fields a clean production document has; keyword arguments override or add fields, and
`ABSENT` removes one (real documents omit optional fields rather than storing null).
Ids are readable: `oid(7)` is always the same ObjectId, so expected outputs can be written
by hand in tests.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bson import ObjectId

ABSENT = object()
T0 = datetime(2025, 3, 1, 12, 0, 0)


def oid(n: int) -> ObjectId:
    """The n-th readable ObjectId (the number is visible in its hex form)."""
    return ObjectId(f"{n:024x}")


def at(minutes: int) -> datetime:
    """A naive UTC datetime `minutes` after T0 (pymongo returns naive UTC datetimes)."""
    return T0 + timedelta(minutes=minutes)


def iso(moment: datetime) -> str:
    """The ISO-8601 string form some legacy documents stored instead of a date."""
    return moment.replace(tzinfo=timezone.utc).isoformat().replace("+00:00", "Z")


def js_iso(moment: datetime) -> str:
    """A date as JavaScript's Date.toISOString() writes it (milliseconds, "Z"): how the gateway
    stores a date inside a Json field such as Message.translations."""
    return moment.isoformat(timespec="milliseconds") + "Z"


def _apply(doc: dict, overrides: dict) -> dict:
    for key, value in overrides.items():
        if value is ABSENT:
            doc.pop(key, None)
        else:
            doc[key] = value
    return doc


def legacy_user(_id: ObjectId, **overrides) -> dict:
    n = str(_id)[-6:]
    doc = {
        "_id": _id, "username": f"user{n}", "email": f"user{n}@example.org",
        "password": "$2b$10$abcdefghijklmnopqrstuv", "firstName": "Ada", "lastName": "Lovelace",
        "displayName": f"Ada {n}", "role": "USER", "lastSeen": at(10), "lastActiveAt": at(5),
        "systemLanguage": "fr", "regionalLanguage": "en", "autoTranslateEnabled": True,
        "translateToSystemLanguage": True, "translateToRegionalLanguage": False,
        "useCustomDestination": False, "isActive": True, "createdAt": at(0), "updatedAt": at(1),
    }
    return _apply(doc, overrides)


def legacy_conversation(_id: ObjectId, **overrides) -> dict:
    doc = {
        "_id": _id, "identifier": f"conv-{_id}", "type": "group", "title": "Team",
        "isActive": True, "lastMessageAt": at(60), "createdAt": at(0), "updatedAt": at(60),
    }
    return _apply(doc, overrides)


def legacy_member(_id: ObjectId, conversation_id, user_id, **overrides) -> dict:
    doc = {
        "_id": _id, "conversationId": conversation_id, "userId": user_id, "role": "member",
        "canSendMessage": True, "canSendFiles": True, "canSendImages": True,
        "canSendVideos": False, "canSendAudios": True, "canSendLocations": False,
        "canSendLinks": True, "joinedAt": at(1), "isActive": True,
    }
    return _apply(doc, overrides)


def legacy_anonymous(_id: ObjectId, conversation_id, share_link_id, token: str, **overrides) -> dict:
    doc = {
        "_id": _id, "conversationId": conversation_id, "shareLinkId": share_link_id,
        "firstName": "Guest", "lastName": "Visitor", "username": "guest42",
        "sessionToken": token, "ipAddress": "203.0.113.9", "country": "FR", "language": "fr",
        "canSendMessages": True, "canSendFiles": False, "canSendImages": True,
        "joinedAt": at(2), "lastSeenAt": at(30), "isActive": True,
    }
    return _apply(doc, overrides)


def legacy_message(_id: ObjectId, conversation_id, sender_id=None, **overrides) -> dict:
    doc = {
        "_id": _id, "conversationId": conversation_id, "content": "bonjour",
        "originalLanguage": "fr", "messageType": "text", "isEdited": False,
        "isDeleted": False, "createdAt": at(20), "updatedAt": at(21),
    }
    if sender_id is not None:
        doc["senderId"] = sender_id
    return _apply(doc, overrides)


def legacy_translation(_id: ObjectId, message_id, language: str, text: str, **overrides) -> dict:
    doc = {
        "_id": _id, "messageId": message_id, "sourceLanguage": "fr", "targetLanguage": language,
        "translatedContent": text, "translationModel": "basic", "cacheKey": f"k-{_id}",
        "confidenceScore": 0.9, "createdAt": at(22), "updatedAt": at(23),
    }
    return _apply(doc, overrides)


def legacy_status(_id: ObjectId, message_id, user_id, **overrides) -> dict:
    doc = {"_id": _id, "messageId": message_id, "userId": user_id, "receivedAt": at(24), "readAt": at(25)}
    return _apply(doc, overrides)


def legacy_reaction(_id: ObjectId, message_id, emoji: str = "👍", **overrides) -> dict:
    doc = {"_id": _id, "messageId": message_id, "emoji": emoji, "createdAt": at(26)}
    return _apply(doc, overrides)


def legacy_notification(_id: ObjectId, user_id, **overrides) -> dict:
    doc = {
        "_id": _id, "userId": user_id, "type": "new_message", "title": "New message",
        "content": "You have a new message", "data": '{"conversationTitle": "Team"}',
        "priority": "normal", "isRead": False, "emailSent": False, "pushSent": True,
        "createdAt": at(27),
    }
    return _apply(doc, overrides)


def insert_documents(db, documents_by_collection: dict[str, list[dict]]) -> None:
    """Insert a hand-built dataset ({collection: [documents]}) into a pymongo Database."""
    for name, documents in documents_by_collection.items():
        if documents:
            db[name].insert_many([dict(d) for d in documents], ordered=True)


SHOWCASE_TOKEN = "anon_plain_token_5f2c9a7e1d3b4c6a8e0f"
QUARANTINED_TOKEN = "anon_plain_token_of_a_lost_conversation"


def showcase_dataset() -> dict[str, list[dict]]:
    """One small legacy database exercising every rule of the chain once (ids in the comments
    of tests/migration/meeshy/test_meeshy_rules.py): a tiny production with each real-data defect."""
    conv, lost_conv, alice, bob, carol, gone = oid(100), oid(199), oid(1), oid(2), oid(3), oid(9)
    return {
        "User": [legacy_user(alice, role="MODO", lastSeen=at(50), lastActiveAt=at(40)),
                 legacy_user(bob, displayName=ABSENT, lastSeen=ABSENT, createdAt=iso(at(0))),
                 legacy_user(carol, role="ADMIN")],
        "Conversation": [legacy_conversation(conv)],
        "ConversationMember": [
            legacy_member(oid(10), conv, alice, joinedAt=at(30), isActive=False, leftAt=at(35)),
            legacy_member(oid(11), conv, str(alice), joinedAt=iso(at(3)), isActive=True, role="admin"),
            legacy_member(oid(12), conv, bob),
            legacy_member(oid(13), conv, "not-a-user-id"),
        ],
        "ConversationShareLink": [],
        "AnonymousParticipant": [legacy_anonymous(oid(20), conv, oid(300), SHOWCASE_TOKEN),
                                 legacy_anonymous(oid(21), lost_conv, oid(300), QUARANTINED_TOKEN)],
        "Message": [
            legacy_message(oid(50), conv, alice),
            legacy_message(oid(51), str(conv), carol, isDeleted=True),     # carol is no member
            legacy_message(oid(52), conv, gone, isDeleted=True, updatedAt=ABSENT),
            legacy_message(oid(53), conv, anonymousSenderId=oid(20), createdAt=iso(at(44))),
            legacy_message(oid(54), lost_conv, alice),
        ],
        "MessageTranslation": [
            legacy_translation(oid(60), oid(50), "en", "hello", updatedAt=at(30)),
            legacy_translation(oid(61), oid(50), "en", "hi there", updatedAt=iso(at(31))),
            legacy_translation(oid(62), oid(50), "es", "hola"),
            legacy_translation(oid(63), oid(77), "en", "orphan"),
        ],
        "MessageStatus": [legacy_status(oid(70), oid(50), bob),
                          legacy_status(oid(71), str(oid(50)), bob, readAt=at(26)),
                          legacy_status(oid(72), oid(50), carol)],
        "Reaction": [legacy_reaction(oid(80), oid(50), userId=bob),
                     legacy_reaction(oid(81), oid(50), userId=bob),
                     legacy_reaction(oid(82), oid(50), anonymousUserId=oid(20))],
        "Notification": [legacy_notification(oid(90), alice, senderId=str(bob), senderUsername="bob"),
                         legacy_notification(oid(91), alice, data="{not json"),
                         legacy_notification(oid(92), "alice")],
        "call_sessions": [{"_id": oid(110), "conversationId": conv, "mode": "p2p", "status": "ended",
                           "initiatorId": alice, "startedAt": iso(at(5)), "endedAt": at(9), "duration": 240}],
        "call_participants": [{"_id": oid(111), "callSessionId": str(oid(110)), "userId": alice,
                               "role": "initiator", "joinedAt": at(5), "isAudioEnabled": True,
                               "isVideoEnabled": False}],
        "user_conversation_preferences": [{"_id": oid(120), "userId": alice, "conversationId": conv,
                                           "isPinned": True, "isMuted": False, "isArchived": False,
                                           "createdAt": at(1), "updatedAt": at(2)}],
        "user_conversation_categories": [{"_id": oid(121), "userId": alice, "name": "Work", "order": 0,
                                          "isExpanded": True, "createdAt": at(1), "updatedAt": at(1)}],
        "MessageReadStatus": [{"_id": oid(130), "messageId": oid(50), "userId": bob, "readAt": at(26)}],
        "old_message_status": [{"_id": oid(131), "messageId": oid(50), "status": "read"}],
        "MessageAttachment_backup_urls": [{"_id": oid(132), "oldUrl": "http://old/1", "newUrl": "https://new/1"}],
        "TypingIndicator": [],
    }
