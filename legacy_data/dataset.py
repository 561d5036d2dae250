"""A deterministic legacy Meeshy dataset: production's shape and counts, with its defects.

`legacy_collections(seed, scale)` streams (collection, documents) pairs with production's counts
(COUNTS_AT_SCALE_1) times `scale` (about 125k documents at scale 1) and every defect
real data showed: duplicate memberships, references stored as strings (valid and invalid),
dates stored as ISO strings, invalid JSON in Notification.data, senders without membership,
deleted users, messages of missing conversations, translations of missing messages,
duplicate translations, MODO roles, anonymous participants with plain session tokens, a second
preference of one user for one conversation.
The same (seed, scale) always yields byte-identical documents. Used by the rule tests, the
benchmark and rehearsals; testing/legacy/hand_built.py has the tiny fixtures for single-rule tests.
"""
from __future__ import annotations

from itertools import islice
from typing import Callable, Iterator

from migration.meeshy import legacy_collections as legacy_collections_of_the_chain

from . import documents_activity as activity
from . import documents_core as core
from . import documents_other as other
from .legacy_defaults import with_legacy_defaults
from .skeleton import COUNTS_AT_SCALE_1, Skeleton, build_skeleton

__all__ = ["COUNTS_AT_SCALE_1", "expected_counts", "legacy_collections", "generate_legacy_dataset",
           "insert_legacy_dataset"]

RENDERERS: dict[str, Callable[[Skeleton], Iterator[dict]]] = {
    "User": core.users,
    "Conversation": core.conversations,
    "ConversationMember": core.conversation_members,
    "ConversationShareLink": core.share_links,
    "AnonymousParticipant": core.anonymous_participants,
    "Message": core.messages,
    "MessageTranslation": core.message_translations,
    "MessageAttachment": activity.message_attachments,
    "MessageAttachment_backup_urls": activity.attachment_backup_urls,
    "MessageStatus": activity.message_statuses,
    "MessageReadStatus": activity.message_read_statuses,
    "old_message_status": activity.old_message_statuses,
    "Reaction": activity.reactions,
    "Mention": activity.mentions,
    "Notification": activity.notifications,
    "Community": other.communities,
    "CommunityMember": other.community_members,
    "call_sessions": other.call_sessions,
    "call_participants": other.call_participants,
    "user_conversation_categories": other.user_conversation_categories,
    "user_conversation_preferences": other.user_conversation_preferences,
    "FriendRequest": other.friend_requests,
    "UserStats": other.user_stats,
    "AffiliateToken": other.affiliate_tokens,
    "AffiliateRelation": other.affiliate_relations,
    "TrackingLink": other.tracking_links,
    "TrackingLinkClick": other.tracking_link_clicks,
    "AdminAuditLog": other.admin_audit_logs,
}
# Below this, collections get too few documents to carry every defect at once.
MIN_SCALE = 0.01
# Collections production has but holds no document of: created empty, like production.
EMPTY_COLLECTIONS = legacy_collections_of_the_chain.EMPTY_COLLECTIONS


def expected_counts(seed: int = 1, scale: float = 1.0) -> dict[str, int]:
    """How many documents each generated collection holds (without generating them)."""
    skeleton = Skeleton(seed=seed, scale=scale)
    counts = {name: skeleton.count(name) for name in RENDERERS}
    # Some generators may hold fewer when the population is too small to draw distinct pairs.
    return counts | {name: 0 for name in EMPTY_COLLECTIONS}


def legacy_collections(seed: int = 1, scale: float = 1.0) -> Iterator[tuple[str, Iterator[dict]]]:
    """Stream every legacy collection as (name, document iterator); nothing big is held."""
    if not scale >= MIN_SCALE:
        raise ValueError(f"scale must be at least {MIN_SCALE} (smaller datasets cannot hold every "
                         f"defect), got {scale!r}")
    skeleton = build_skeleton(seed, scale)
    for name, render in RENDERERS.items():
        yield name, with_legacy_defaults(name, render(skeleton), seed)
    for name in EMPTY_COLLECTIONS:
        yield name, iter(())


def generate_legacy_dataset(seed: int = 1, scale: float = 1.0) -> dict[str, list[dict]]:
    """The whole dataset in memory: for tests and small scales."""
    return {name: list(documents) for name, documents in legacy_collections(seed, scale)}


def insert_legacy_dataset(db, seed: int = 1, scale: float = 1.0, batch_size: int = 2000) -> dict[str, int]:
    """Insert the dataset into a pymongo Database with insert_many in batches; returns counts.

    Empty collections are created explicitly so the source lists them as production does.
    """
    counts: dict[str, int] = {}
    existing = set(db.list_collection_names())
    for name, documents in legacy_collections(seed, scale):
        if name not in existing:
            db.create_collection(name)
        counts[name] = 0
        while batch := list(islice(documents, batch_size)):
            db[name].insert_many(batch, ordered=False)
            counts[name] += len(batch)
    return counts
