"""Legacy documents of the conversation core: users, conversations, memberships, anonymous
participants, share links, messages and their translations (generated from a Skeleton)."""
from __future__ import annotations

from datetime import timedelta
from typing import Iterator

from .defects import INVALID_REF_RATE, ISO_DATE_RATE, date_field, ref_field
from .skeleton import Skeleton, defects, object_id_at, random_moment

LANGUAGES = ["fr", "en", "es", "de", "pt", "it", "ar", "zh"]
ROLES = ["USER"] * 80 + ["ADMIN"] * 4 + ["MODO"] * 8 + ["AUDIT"] * 2 + ["ANALYST"] * 3 + ["BIGBOSS"]
FIRST = ["Ada", "Bola", "Chen", "Dara", "Eli", "Fatou", "Gus", "Hana", "Ines", "Jomo"]
LAST = ["Mbeki", "Nguyen", "Okafor", "Petit", "Quispe", "Rossi", "Sato", "Traore"]


def users(sk: Skeleton) -> Iterator[dict]:
    rng = sk.rng("User")
    for i, (_id, created) in enumerate(zip(sk.users, sk.user_created)):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        doc = {"_id": _id, "username": f"{first.lower()}{i}", "email": f"{first.lower()}.{i}@example.org",
               "password": f"$2b$10${rng.getrandbits(128):032x}", "firstName": first, "lastName": last}
        if rng.random() < 0.6:
            doc["displayName"] = f"{first} {last[0]}."
        if rng.random() < 0.4:
            doc["avatar"] = f"/avatars/{_id}.png"
        doc["role"] = rng.choice(ROLES)
        seen, active = random_moment(rng, created), random_moment(rng, created)
        presence = rng.random()
        if presence < 0.85:
            doc["lastSeen"], doc["lastActiveAt"] = date_field(rng, seen), date_field(rng, active)
        elif presence < 0.95:
            doc["lastSeen"] = seen
        else:
            doc["lastActiveAt"] = active
        doc["systemLanguage"], doc["regionalLanguage"] = rng.choice(LANGUAGES), rng.choice(LANGUAGES)
        if rng.random() < 0.1:
            doc["customDestinationLanguage"] = rng.choice(LANGUAGES)
        for flag in ("autoTranslateEnabled", "translateToSystemLanguage",
                     "translateToRegionalLanguage", "useCustomDestination"):
            doc[flag] = rng.random() < 0.5
        doc["isActive"] = rng.random() < 0.95
        # The first account carries an ISO-string date so even tiny scales show the defect.
        doc["createdAt"] = date_field(rng, created, 1.0 if i == 0 else ISO_DATE_RATE)
        doc["updatedAt"] = random_moment(rng, created)
        yield doc


def conversations(sk: Skeleton) -> Iterator[dict]:
    rng = sk.rng("Conversation")
    for i, (_id, created) in enumerate(zip(sk.conversations, sk.conversation_created)):
        kind = rng.choice(["direct", "group", "group", "public", "global"])
        doc = {"_id": _id, "identifier": f"mshy_{kind}_{i}", "type": kind}
        if kind != "direct":
            doc["title"] = f"{kind.title()} {i}"
            if rng.random() < 0.5:
                doc["description"] = "Talk about everything"
        if rng.random() < 0.2:
            doc["image"] = f"/conversations/{_id}.jpg"
        doc.update(isActive=rng.random() < 0.9, isArchived=rng.random() < 0.05,
                   lastMessageAt=random_moment(rng, created), createdAt=date_field(rng, created),
                   updatedAt=random_moment(rng, created))
        yield doc


def conversation_members(sk: Skeleton) -> Iterator[dict]:
    rng = sk.rng("ConversationMember")
    for conv, user in sk.memberships:
        joined = random_moment(rng, sk.conversation_created[conv])
        doc = {"_id": object_id_at(rng, joined), "conversationId": sk.conversations[conv],
               "userId": ref_field(rng, user), "role": rng.choice(["member"] * 6 + ["admin", "moderator"])}
        if rng.random() < 0.05:
            doc["nickname"] = f"nick{rng.randrange(1000)}"
        doc["canSendMessage"] = rng.random() < 0.97
        for flag in ("canSendFiles", "canSendImages", "canSendVideos", "canSendAudios",
                     "canSendLocations", "canSendLinks"):
            doc[flag] = rng.random() < 0.8
        doc["joinedAt"] = date_field(rng, joined)
        doc["isActive"] = rng.random() < 0.85
        if not doc["isActive"]:
            doc["leftAt"] = random_moment(rng, joined)
        yield doc


def share_links(sk: Skeleton) -> Iterator[dict]:
    rng = sk.rng("ConversationShareLink")
    for i, (_id, conv) in enumerate(sk.share_links):
        created = random_moment(rng, sk.conversation_created[conv])
        owner = (sk.members_of[conv] or sk.users)[0]
        yield {"_id": _id, "linkId": f"mshy_link_{i}_{rng.getrandbits(32):08x}",
               "identifier": f"mshy_share_{i}",
               "conversationId": sk.conversations[conv], "createdBy": owner, "name": f"Invite {i}",
               "currentUses": rng.randrange(20), "currentConcurrentUsers": 0, "isActive": True,
               "allowAnonymousMessages": True, "allowAnonymousFiles": False, "allowAnonymousImages": True,
               "allowViewHistory": rng.random() < 0.7, "requireNickname": True, "requireEmail": False,
               "allowedCountries": [], "allowedLanguages": [], "allowedIpRanges": [],
               "createdAt": created, "updatedAt": created}


def anonymous_participants(sk: Skeleton) -> Iterator[dict]:
    rng = sk.rng("AnonymousParticipant")
    links_by_conv = {conv: link for link, conv in sk.share_links}
    for i, (_id, conv) in enumerate(sk.anonymous):
        joined = random_moment(rng, sk.conversation_created[conv])
        doc = {"_id": _id, "conversationId": sk.conversations[conv], "shareLinkId": links_by_conv[conv],
               "firstName": rng.choice(FIRST), "lastName": rng.choice(LAST), "username": f"guest{i}",
               # Plain session tokens, as production stored them: the migration must hash them.
               "sessionToken": f"anon_{rng.getrandbits(192):048x}"}
        if rng.random() < 0.3:
            doc["email"] = f"guest{i}@example.net"
        if rng.random() < 0.7:
            doc["ipAddress"] = f"198.51.100.{rng.randrange(1, 255)}"
            doc["country"] = rng.choice(["FR", "CM", "SN", "US"])
        doc["language"] = rng.choice(LANGUAGES)
        if rng.random() < 0.5:
            doc["deviceFingerprint"] = f"fp{rng.getrandbits(64):016x}"
        doc.update(canSendMessages=True, canSendFiles=rng.random() < 0.3, canSendImages=True,
                   joinedAt=joined, lastSeenAt=random_moment(rng, joined), isActive=rng.random() < 0.6)
        yield doc


def messages(sk: Skeleton) -> Iterator[dict]:
    rng = sk.rng("Message")
    previous_in_conversation: dict = {}
    deleted = defects(len(sk.messages), 0.03)
    deleted_ids = {m.id for m in rng.sample(sk.messages, deleted)}
    for m in sk.messages:
        doc = {"_id": m.id, "conversationId": ref_field(rng, m.conversation_id)}
        if m.sender_anonymous is not None:
            doc["anonymousSenderId"] = m.sender_anonymous
        else:
            doc["senderId"] = ref_field(rng, m.sender_user, invalid_rate=INVALID_REF_RATE)
        doc.update(content=f"message {m.id}", originalLanguage=rng.choice(LANGUAGES),
                   messageType=rng.choice(["text"] * 9 + ["image"]), isEdited=rng.random() < 0.08)
        updated = m.created + timedelta(milliseconds=rng.randrange(0, 3_600_000))
        if doc["isEdited"]:
            doc["editedAt"] = updated
        doc["isDeleted"] = m.id in deleted_ids
        if doc["isDeleted"] and rng.random() < 0.5:
            doc["deletedAt"] = updated
        earlier = previous_in_conversation.get(m.conversation_id)
        if earlier is not None and rng.random() < 0.1:
            doc["replyToId"] = earlier
        doc["createdAt"] = date_field(rng, m.created)
        if rng.random() < 0.9:  # some legacy writes never set updatedAt
            doc["updatedAt"] = updated
        previous_in_conversation[m.conversation_id] = m.id
        yield doc


def message_translations(sk: Skeleton) -> Iterator[dict]:
    rng = sk.rng("MessageTranslation")
    total = sk.count("MessageTranslation")
    missing, duplicates = defects(total, 0.01), defects(total, 0.03)
    written: list[tuple] = []
    for i in range(total):
        if i < missing:
            message_id, created = object_id_at(rng, random_moment(rng)), random_moment(rng)
            language = rng.choice(LANGUAGES)
        elif i >= total - duplicates and written:
            message_id, language, created = rng.choice(written)
        else:
            m = rng.choice(sk.messages)
            message_id, language, created = m.id, rng.choice(LANGUAGES), m.created
            written.append((message_id, language, created))
        at = random_moment(rng, created)
        updated = random_moment(rng, at)
        doc = {"_id": object_id_at(rng, at), "messageId": ref_field(rng, message_id), "sourceLanguage": "fr",
               "targetLanguage": language, "translatedContent": f"[{language}] text {i}",
               "translationModel": rng.choice(["basic", "medium", "premium"]),
               "cacheKey": f"{message_id}:{language}:{rng.getrandbits(32):08x}"}
        if rng.random() < 0.7:
            doc["confidenceScore"] = round(rng.random(), 3)
        doc["createdAt"], doc["updatedAt"] = at, date_field(rng, updated, 0.05)
        yield doc
