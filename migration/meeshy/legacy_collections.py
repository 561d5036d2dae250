"""The collections today's production database holds (the legacy shape the chain starts from).

The chain's own knowledge, not a fixture's: the takeover's audit checks a production database
for them, and the legacy data generator (testing/legacy) renders exactly these.
"""
from __future__ import annotations

# Collections holding documents in production.
POPULATED_COLLECTIONS = (
    "User", "Conversation", "ConversationMember", "ConversationShareLink", "AnonymousParticipant",
    "Message", "MessageTranslation", "MessageAttachment", "MessageAttachment_backup_urls",
    "MessageStatus", "MessageReadStatus", "old_message_status", "Reaction", "Mention",
    "Notification", "Community", "CommunityMember", "call_sessions", "call_participants",
    "user_conversation_categories", "user_conversation_preferences", "FriendRequest", "UserStats",
    "AffiliateToken", "AffiliateRelation", "TrackingLink", "TrackingLinkClick", "AdminAuditLog",
)
# Collections production has but holds no document of.
EMPTY_COLLECTIONS = ("TypingIndicator", "ConversationPreference", "UserPreference")
LEGACY_COLLECTIONS = tuple(sorted([*POPULATED_COLLECTIONS, *EMPTY_COLLECTIONS]))
