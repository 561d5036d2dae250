"""The skeleton of a generated legacy dataset: who exists, who belongs where, who wrote what.

Documents are rendered from it afterwards (sample_documents_*.py). Keeping the skeleton
small (ids, indexes and dates only) lets the big collections (Notification, MessageStatus)
be streamed without holding them in memory, even at ten times production's size.
"""
from __future__ import annotations

import itertools
import random
import struct
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property

from bson import ObjectId

START = datetime(2024, 1, 1)
END = datetime(2026, 1, 25)
SPAN_MS = int((END - START).total_seconds() * 1000)

# Production's counts on 2026-01-25. AnonymousParticipant is 0 there;
# a few are generated so the session-token rule is exercised (see ANONYMOUS_PER_SCALE).
COUNTS_AT_SCALE_1 = {
    "User": 207, "Conversation": 152, "ConversationMember": 616, "Message": 4508,
    "MessageTranslation": 2787, "MessageAttachment": 703, "Community": 8, "CommunityMember": 14,
    "ConversationShareLink": 8, "call_sessions": 44, "call_participants": 48,
    "MessageAttachment_backup_urls": 514, "Notification": 94790, "MessageStatus": 18143,
    "MessageReadStatus": 172, "Reaction": 1365, "Mention": 104, "FriendRequest": 96,
    "UserStats": 96, "AffiliateToken": 59, "AffiliateRelation": 86, "TrackingLink": 75,
    "TrackingLinkClick": 904, "AdminAuditLog": 89, "user_conversation_preferences": 34,
    "user_conversation_categories": 6, "old_message_status": 7, "AnonymousParticipant": 0,
    "TypingIndicator": 0, "ConversationPreference": 0, "UserPreference": 0,
}
ANONYMOUS_PER_SCALE = 6


def scaled(base: int, scale: float) -> int:
    """A collection's size at `scale`; a collection production has stays non-empty."""
    return 0 if base == 0 else max(1, round(base * scale))


def defects(total: int, rate: float) -> int:
    """How many documents carry a defect: proportional, but at least one when possible."""
    return 0 if total == 0 else min(total, max(1, round(total * rate)))


def random_moment(rng: random.Random, after: datetime = START) -> datetime:
    """A millisecond-precision instant (what MongoDB stores) between `after` and END."""
    low = int((after - START).total_seconds() * 1000)
    return START + timedelta(milliseconds=rng.randint(low, SPAN_MS))


def object_id_at(rng: random.Random, moment: datetime) -> ObjectId:
    """An ObjectId whose timestamp is `moment`, like the driver would have made then."""
    seconds = int((moment - datetime(1970, 1, 1)).total_seconds())
    return ObjectId(struct.pack(">I", seconds) + rng.randbytes(8))


@dataclass
class MessageSkeleton:
    id: ObjectId
    conversation_id: ObjectId
    conversation_index: int | None  # None: the conversation does not exist
    created: datetime
    sender_user: ObjectId | None = None
    sender_anonymous: ObjectId | None = None


@dataclass
class Skeleton:
    seed: int
    scale: float
    users: list[ObjectId] = field(default_factory=list)
    user_created: list[datetime] = field(default_factory=list)
    deleted_users: list[ObjectId] = field(default_factory=list)
    conversations: list[ObjectId] = field(default_factory=list)
    conversation_created: list[datetime] = field(default_factory=list)
    missing_conversations: list[ObjectId] = field(default_factory=list)
    memberships: list[tuple[int, ObjectId]] = field(default_factory=list)
    members_of: list[list[ObjectId]] = field(default_factory=list)
    share_links: list[tuple[ObjectId, int]] = field(default_factory=list)
    anonymous: list[tuple[ObjectId, int]] = field(default_factory=list)
    messages: list[MessageSkeleton] = field(default_factory=list)

    @cached_property
    def users_set(self) -> frozenset:
        return frozenset(self.users)

    def rng(self, purpose: str) -> random.Random:
        """An independent, reproducible random stream per purpose (str seeds are stable)."""
        return random.Random(f"meeshy-legacy:{self.seed}:{self.scale}:{purpose}")

    def count(self, collection: str) -> int:
        if collection == "AnonymousParticipant":
            return scaled(ANONYMOUS_PER_SCALE, self.scale)
        return scaled(COUNTS_AT_SCALE_1[collection], self.scale)


def build_skeleton(seed: int, scale: float) -> Skeleton:
    sk = Skeleton(seed=seed, scale=scale)
    _people(sk)
    _memberships(sk)
    _anonymous(sk)
    _messages(sk)
    return sk


def _people(sk: Skeleton) -> None:
    rng = sk.rng("people")
    for _ in range(sk.count("User")):
        created = random_moment(rng)
        sk.users.append(object_id_at(rng, created))
        sk.user_created.append(created)
    # Accounts deleted from User while their memberships and messages stayed behind.
    sk.deleted_users = [object_id_at(rng, random_moment(rng)) for _ in range(defects(len(sk.users), 0.03))]
    for _ in range(sk.count("Conversation")):
        created = random_moment(rng)
        sk.conversations.append(object_id_at(rng, created))
        sk.conversation_created.append(created)
    sk.missing_conversations = [
        object_id_at(rng, random_moment(rng)) for _ in range(defects(len(sk.conversations), 0.02))
    ]


def _memberships(sk: Skeleton) -> None:
    rng = sk.rng("memberships")
    total = sk.count("ConversationMember")
    duplicates = defects(total, 0.03)
    orphans = defects(total, 0.01)  # memberships of deleted users
    sk.members_of = [[] for _ in sk.conversations]
    distinct = total - duplicates - orphans
    for i in range(distinct):
        conv = i % len(sk.conversations) if i < len(sk.conversations) * 2 \
              else rng.randrange(len(sk.conversations))
        candidates = [u for u in rng.sample(sk.users, min(8, len(sk.users))) if u not in sk.members_of[conv]]
        if not candidates:
            conv = rng.randrange(len(sk.conversations))
            candidates = [u for u in sk.users if u not in sk.members_of[conv]] or sk.users
        user = candidates[0]
        sk.members_of[conv].append(user)
        sk.memberships.append((conv, user))
    for _ in range(orphans):
        sk.memberships.append((rng.randrange(len(sk.conversations)), rng.choice(sk.deleted_users)))
    for _ in range(duplicates):
        sk.memberships.append(rng.choice(sk.memberships[:distinct]))
    rng.shuffle(sk.memberships)


def _anonymous(sk: Skeleton) -> None:
    rng = sk.rng("anonymous")
    for _ in range(sk.count("ConversationShareLink")):
        sk.share_links.append((object_id_at(rng, random_moment(rng)), rng.randrange(len(sk.conversations))))
    for _ in range(sk.count("AnonymousParticipant")):
        link_id, conv = rng.choice(sk.share_links)
        sk.anonymous.append((object_id_at(rng, random_moment(rng)), conv))


def _messages(sk: Skeleton) -> None:
    rng = sk.rng("messages")
    total = sk.count("Message")
    kinds = (["missing_conversation"] * defects(total, 0.005) + ["non_member"] * defects(total, 0.02)
             + ["deleted_user"] * defects(total, 0.01) + ["anonymous"] * defects(total, 0.01))
    kinds += ["member"] * (total - len(kinds))
    rng.shuffle(kinds)
    # Bigger conversations carry more messages (and so more read statuses per message).
    cumulative = list(itertools.accumulate(len(members) ** 2 + 1 for members in sk.members_of))
    conversation_indexes = range(len(sk.conversations))
    for kind in kinds:
        conv = rng.choices(conversation_indexes, cum_weights=cumulative)[0]
        if kind == "anonymous" and sk.anonymous:
            anonymous_id, conv = rng.choice(sk.anonymous)
            sk.messages.append(_message(rng, sk, conv, sender_anonymous=anonymous_id))
        elif kind == "missing_conversation":
            created = random_moment(rng)
            sk.messages.append(MessageSkeleton(object_id_at(rng, created),
                                               rng.choice(sk.missing_conversations),
                                               None, created, sender_user=rng.choice(sk.users)))
        elif kind == "deleted_user":
            sk.messages.append(_message(rng, sk, conv, sender_user=rng.choice(sk.deleted_users)))
        elif kind == "member" and sk.members_of[conv]:
            sk.messages.append(_message(rng, sk, conv, sender_user=rng.choice(sk.members_of[conv])))
        else:
            outsiders = [u for u in rng.sample(sk.users, min(5, len(sk.users)))
                        if u not in sk.members_of[conv]]
            sk.messages.append(_message(rng, sk, conv, sender_user=(outsiders or sk.users)[0]))
    sk.messages.sort(key=lambda m: (m.created, m.id))


def _message(rng, sk: Skeleton, conv: int, **sender) -> MessageSkeleton:
    created = random_moment(rng, after=sk.conversation_created[conv])
    return MessageSkeleton(object_id_at(rng, created), sk.conversations[conv], conv, created, **sender)
