"""Read statuses and reactions, attached to participants instead of users."""
from migration.engine import CollectionRule, Reference, Step

from ..lookups import ANONYMOUS, CONVERSATIONS, MEMBERSHIPS, USERS
from ..transforms_activity import (REACTION_GROUPS, REACTION_MAPPED, STATUS_DROPPED, STATUS_GROUPS,
                                   STATUS_MAPPED,
                                   migrate_reaction, migrate_status)
from ..transforms_messages import MESSAGES

CONTEXT = (USERS, CONVERSATIONS, MEMBERSHIPS, ANONYMOUS, MESSAGES)

STEP = Step(
    id="0005-message-activity",
    previous="0004-messages",
    description="MessageStatus -> MessageStatusEntry and Reaction userId/anonymousUserId -> participantId; "
                "duplicates under (messageId, participantId[, emoji]) merged",
    rules=(
        CollectionRule(source="MessageStatus", target="MessageStatusEntry", transform=migrate_status,
                       mapped=STATUS_MAPPED, dropped=STATUS_DROPPED, lookups=CONTEXT + (STATUS_GROUPS,),
                       also_writes=("Participant",)),
        CollectionRule(source="Reaction", target="Reaction", transform=migrate_reaction,
                       mapped=REACTION_MAPPED, lookups=CONTEXT + (REACTION_GROUPS,), also_writes=("Participant",)),
    ),
    references=(
        Reference("MessageStatusEntry", "messageId", "Message"),
        Reference("MessageStatusEntry", "participantId", "Participant", scope="conversationId"),
        Reference("Reaction", "messageId", "Message"),
        Reference("Reaction", "participantId", "Participant"),
    ),
)
