"""Legacy documents of per-message activity: statuses, reactions, mentions, attachments,
notifications, and the collections the target no longer has (generated from a Skeleton)."""
from __future__ import annotations

from collections import deque
from datetime import timedelta
from typing import Iterator

from .defects import INVALID_REF_RATE, date_field, ref_field
from .skeleton import Skeleton, defects, object_id_at, random_moment

EMOJIS = ["👍", "❤️", "😂", "🔥", "🎉", "😮"]
NOTIFICATION_TYPES = ["new_message", "friend_request", "missed_call", "mention", "new_conversation"]


def _existing_messages(sk: Skeleton):
    return [m for m in sk.messages if m.conversation_index is not None]


def _reader_of(rng, sk: Skeleton, m):
    members = sk.members_of[m.conversation_index]
    if members and rng.random() > 0.01:
        return rng.choice(members)
    return rng.choice(sk.users)  # a reader with no membership there: gets a historical participant


def _distinct_reader(rng, sk: Skeleton, candidates, used: set):
    """A (message, reader) pair not drawn before: production has one status per reader.

    Members first, then readers without a membership; a tiny dataset with more statuses than
    (message, user) pairs gets an extra duplicate rather than an endless search."""
    for attempt in range(64):
        m = rng.choice(candidates)
        user = _reader_of(rng, sk, m) if attempt < 8 else rng.choice(sk.users)
        if (m.id, user) not in used:
            break
    used.add((m.id, user))
    return m, user


def message_statuses(sk: Skeleton) -> Iterator[dict]:
    rng = sk.rng("MessageStatus")
    total, candidates = sk.count("MessageStatus"), _existing_messages(sk)
    missing, duplicates = defects(total, 0.005), defects(total, 0.02)
    duplicate_at = set(rng.sample(range(missing + 1, total), min(duplicates, max(0, total - missing - 1))))
    recent: deque = deque(maxlen=500)
    used: set = set()
    later = sk.rng("MessageStatus.later")  # the second legacy schema's fields, on a share of them
    conversation_of = {m.id: m.conversation_id for m in candidates}
    for i in range(total):
        if i < missing:
            message_id, user, created = object_id_at(rng, random_moment(rng)), \
                rng.choice(sk.users), random_moment(rng)
        elif i in duplicate_at and recent:
            message_id, user, created = rng.choice(recent)
        else:
            m, user = _distinct_reader(rng, sk, candidates, used)
            message_id, created = m.id, m.created
            recent.append((message_id, user, created))
        doc = {"_id": object_id_at(rng, created), "messageId": ref_field(rng, message_id),
               "userId": ref_field(rng, user, invalid_rate=INVALID_REF_RATE)}
        received = created + timedelta(milliseconds=rng.randrange(1, 600_000))
        if rng.random() < 0.9:
            doc["receivedAt"] = date_field(rng, received)
        if rng.random() < 0.6:
            doc["readAt"] = received + timedelta(milliseconds=rng.randrange(1, 6_000_000))
        if message_id in conversation_of and later.random() < 0.3:
            doc["conversationId"], doc["updatedAt"] = conversation_of[message_id], doc.get("readAt", received)
        yield doc


def message_read_statuses(sk: Skeleton) -> Iterator[dict]:
    rng = sk.rng("MessageReadStatus")
    candidates = _existing_messages(sk)
    for _ in range(sk.count("MessageReadStatus")):
        m = rng.choice(candidates)
        yield {"_id": object_id_at(rng, m.created), "messageId": m.id, "userId": _reader_of(rng, sk, m),
               "readAt": m.created + timedelta(seconds=rng.randrange(1, 90_000))}


def old_message_statuses(sk: Skeleton) -> Iterator[dict]:
    rng = sk.rng("old_message_status")
    for _ in range(sk.count("old_message_status")):
        m = rng.choice(sk.messages)
        yield {"_id": object_id_at(rng, m.created), "messageId": m.id, "status": "delivered",
               "updatedAt": m.created}


def reactions(sk: Skeleton) -> Iterator[dict]:
    rng = sk.rng("Reaction")
    total, candidates = sk.count("Reaction"), _existing_messages(sk)
    anonymous_messages = [m for m in candidates if m.sender_anonymous is not None]
    duplicates = defects(total, 0.03)
    recent: deque = deque(maxlen=200)
    used: set = set()
    for i in range(total):
        if i >= total - duplicates and recent:
            message_id, who, emoji, created = rng.choice(recent)
        elif anonymous_messages and rng.random() < 0.02:
            m = rng.choice(anonymous_messages)
            message_id, who, emoji, created = m.id, ("anonymousUserId", m.sender_anonymous), \
                rng.choice(EMOJIS), m.created
        else:
            for _ in range(8):
                m, emoji = rng.choice(candidates), rng.choice(EMOJIS)
                who = ("userId", _reader_of(rng, sk, m))
                if (m.id, who, emoji) not in used:
                    break
            used.add((m.id, who, emoji))
            message_id, created = m.id, m.created
            recent.append((message_id, who, emoji, created))
        at = created + timedelta(milliseconds=rng.randrange(1, 86_400_000))
        yield {"_id": object_id_at(rng, at), "messageId": ref_field(rng, message_id),
               who[0]: ref_field(rng, who[1]), "emoji": emoji, "createdAt": date_field(rng, at)}


def mentions(sk: Skeleton) -> Iterator[dict]:
    rng = sk.rng("Mention")
    candidates, seen = _existing_messages(sk), set()
    for _ in range(sk.count("Mention")):
        for _ in range(64):  # bounded: a tiny dataset may run out of distinct pairs
            m, user = rng.choice(candidates), rng.choice(sk.users)
            if (m.id, user) not in seen:
                break
        seen.add((m.id, user))
        yield {"_id": object_id_at(rng, m.created), "messageId": m.id, "mentionedUserId": user,
               "mentionedAt": m.created}


def message_attachments(sk: Skeleton) -> Iterator[dict]:
    rng = sk.rng("MessageAttachment")
    candidates = _existing_messages(sk)
    for i in range(sk.count("MessageAttachment")):
        m = rng.choice(candidates)
        uploader = m.sender_user or m.sender_anonymous
        kind = rng.choice(["image/jpeg", "image/png", "application/pdf", "audio/ogg"])
        doc = {"_id": object_id_at(rng, m.created), "messageId": m.id, "fileName": f"f{i}.bin",
               "originalName": f"file {i}", "mimeType": kind, "fileSize": rng.randrange(1_000, 5_000_000),
               "filePath": f"attachments/2025/{i}.bin", "fileUrl": f"https://static.example.org/{i}.bin"}
        if kind.startswith("image/"):
            doc.update(width=rng.randrange(100, 4000), height=rng.randrange(100, 4000),
                       thumbnailPath=f"thumbs/{i}.jpg", thumbnailUrl=f"https://static.example.org/t/{i}.jpg")
        if kind.startswith("audio/"):
            doc["duration"] = rng.randrange(1_000, 600_000)
        doc.update(uploadedBy=uploader, isAnonymous=m.sender_anonymous is not None, createdAt=m.created)
        yield doc


def attachment_backup_urls(sk: Skeleton) -> Iterator[dict]:
    rng = sk.rng("MessageAttachment_backup_urls")
    for i in range(sk.count("MessageAttachment_backup_urls")):
        at = random_moment(rng)
        yield {"_id": object_id_at(rng, at), "attachmentId": object_id_at(rng, at),
               "oldUrl": f"http://old.example.org/{i}", "newUrl": f"https://static.example.org/{i}",
               "migratedAt": at}


def call_session_ids(sk: Skeleton) -> list[tuple]:
    """(id, conversation index, started) of every call session, shared with Notification."""
    rng = sk.rng("call_session_ids")
    out = []
    for _ in range(sk.count("call_sessions")):
        conv = rng.randrange(len(sk.conversations))
        started = random_moment(rng, sk.conversation_created[conv])
        out.append((object_id_at(rng, started), conv, started))
    return out


def notifications(sk: Skeleton) -> Iterator[dict]:
    rng = sk.rng("Notification")
    calls = call_session_ids(sk)
    total = sk.count("Notification")
    invalid_json_at = set(rng.sample(range(total), defects(total, 0.01)))
    priorities = ["low", "normal", "normal", "high"]
    # The hottest generator (95% of the documents at every scale): kept to plain operations.
    for i in range(total):
        created = random_moment(rng)
        kind = NOTIFICATION_TYPES[rng.randrange(5)]
        doc = {"_id": object_id_at(rng, created),
               "userId": ref_field(rng, sk.users[rng.randrange(len(sk.users))],
                                   invalid_rate=INVALID_REF_RATE / 2),
               "type": kind, "title": kind.replace("_", " ").title(), "content": f"notification {i}",
               # JSON text written by hand: the legacy gateway stored a string, not a document.
               "data": "{conversationId: unquoted"
                       if i in invalid_json_at else f'{{"kind": "{kind}", "n": {i}}}',
               "priority": priorities[rng.randrange(4)], "isRead": rng.random() < 0.7,
               "emailSent": rng.random() < 0.1, "pushSent": rng.random() < 0.5}
        if rng.random() < 0.2:
            doc["expiresAt"] = created + timedelta(days=30)
        if kind in ("new_message", "mention") and sk.messages:
            m = sk.messages[rng.randrange(len(sk.messages))]
            sender = m.sender_user or sk.users[rng.randrange(len(sk.users))]
            doc["senderId"], doc["senderUsername"] = sender, f"user{str(sender)[-4:]}"
            if rng.random() < 0.3:
                doc["senderAvatar"] = f"/avatars/{sender}.png"
            doc["messagePreview"] = f"message {m.id}"[:32]
            doc["conversationId"], doc["messageId"] = m.conversation_id, m.id
        elif kind == "missed_call" and calls:
            call_id, conv, _ = calls[rng.randrange(len(calls))]
            doc["callSessionId"], doc["conversationId"] = call_id, sk.conversations[conv]
        doc["createdAt"] = date_field(rng, created)
        yield doc
