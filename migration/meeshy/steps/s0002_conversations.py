"""Conversations, communities and per-user conversation settings (snake_case names renamed)."""
from migration.engine import Step

from ..carry_rules import CONVERSATION_DROPPED, CONVERSATION_RENAMED
from ..passthrough import passthrough_rule

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
        passthrough_rule("user_conversation_preferences", "UserConversationPreferences"),
        passthrough_rule("user_conversation_categories", "UserConversationCategory"),
    ),
)
