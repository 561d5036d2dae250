"""Read statuses and reactions, attached to participants instead of users."""
from migration.engine import CollectionRule, Reference, Step

from ..lookups import ANONYMOUS, CONVERSATIONS, MEMBERSHIPS, USERS
from ..transforms.activity import (
    REACTION_GROUPS,
    REACTION_MAPPED,
    STATUS_DROPPED,
    STATUS_GROUPS,
    STATUS_MAPPED,
    migrate_reaction,
    status_transform,
)
from ..transforms.messages import MESSAGES
from ..transforms.read_status import READ_STATUSES, migrate_read_status

CONTEXT = (USERS, CONVERSATIONS, MEMBERSHIPS, ANONYMOUS, MESSAGES)
READ_STATUS_MAPPED = ("messageId", "userId", "readAt")


def step(read_statuses: str) -> Step:
    reads = read_statuses == "migrate"
    status_lookups = CONTEXT + (STATUS_GROUPS,) + ((READ_STATUSES,) if reads else ())
    read_rules = (CollectionRule(source="MessageReadStatus", target="MessageStatusEntry",
                                 transform=migrate_read_status, mapped=READ_STATUS_MAPPED,
                                 lookups=CONTEXT + (STATUS_GROUPS, READ_STATUSES),
                                 also_writes=("Participant",)),) if reads else ()
    return Step(
        id="0005-message-activity",
        previous="0004-messages",
        description="MessageStatus (and MessageReadStatus when decided) -> MessageStatusEntry and Reaction "
                    "userId/anonymousUserId -> participantId; duplicates under (messageId, participantId[, "
                    "emoji]) merged",
        rules=(
            CollectionRule(source="MessageStatus", target="MessageStatusEntry",
                           transform=status_transform(reads), mapped=STATUS_MAPPED, dropped=STATUS_DROPPED,
                           lookups=status_lookups,
                           also_writes=("Participant",)),
        ) + read_rules + (
            CollectionRule(source="Reaction", target="Reaction", transform=migrate_reaction,
                           mapped=REACTION_MAPPED, lookups=CONTEXT + (REACTION_GROUPS,),
                           also_writes=("Participant",)),
        ),
        references=(
            Reference("MessageStatusEntry", "messageId", "Message"),
            Reference("MessageStatusEntry", "participantId", "Participant", scope="conversationId"),
            Reference("Reaction", "messageId", "Message"),
            Reference("Reaction", "participantId", "Participant"),
        ),
    )
