"""Conversations, communities and per-user conversation settings (snake_case names renamed)."""
from migration.engine import Step

from ..carry_rules import CONVERSATION_DROPPED, CONVERSATION_RENAMED
from ..collisions import OnCollision
from ..passthrough import passthrough_rule

# Real data holds two preference documents of one user for one conversation: the latest edit wins.
PREFERENCES_COLLISIONS = (OnCollision("UserConversationPreferences_userId_conversationId_key", "merge",
                                      "latest updatedAt"),)

STEP = Step(
    id="0002-conversations",
    previous="0001-accounts",
    description="Conversation, Community, share links and preferences carried over; "
                "user_conversation_preferences/_categories renamed to their models",
    rules=(
        passthrough_rule("Conversation", "Conversation", renamed=CONVERSATION_RENAMED,
                         dropped=CONVERSATION_DROPPED),
        passthrough_rule("Community", "Community"),
        passthrough_rule("CommunityMember", "CommunityMember"),
        passthrough_rule("ConversationShareLink", "ConversationShareLink"),
        passthrough_rule("ConversationPreference", "ConversationPreference"),
        passthrough_rule("user_conversation_preferences", "UserConversationPreferences",
                         collisions=PREFERENCES_COLLISIONS),
        passthrough_rule("user_conversation_categories", "UserConversationCategory"),
    ),
)
