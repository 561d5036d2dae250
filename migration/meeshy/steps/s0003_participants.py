"""ConversationMember and AnonymousParticipant become Participant."""
from migration.engine import CollectionRule, Reference, Step

from ..collisions import UniqueGuard
from ..lookups import CONVERSATIONS, MEMBERSHIPS, USERS
from ..transforms.participants import (
                                       ANONYMOUS_MAPPED,
                                       PERMISSION_FIELDS,
                                       anonymous_document,
                                       migrate_anonymous,
                                       migrate_member,
)

MEMBER_MAPPED = ("conversationId", "userId", "role", "nickname", "joinedAt", "leftAt",
                 "isActive") + PERMISSION_FIELDS

# One session token in one conversation twice (the legacy token was unique): the first keeps it.
ANONYMOUS_GUARD = UniqueGuard("AnonymousParticipant", "Participant", anonymous_document)

STEP = Step(
    id="0003-participants",
    previous="0002-conversations",
    description="ConversationMember -> Participant (duplicates merged: earliest joinedAt, active if "
                "any was); AnonymousParticipant -> Participant (session token kept only as SHA-256)",
    rules=(
        CollectionRule(source="ConversationMember", target="Participant", transform=migrate_member,
                       mapped=MEMBER_MAPPED, lookups=(USERS, CONVERSATIONS, MEMBERSHIPS)),
        CollectionRule(source="AnonymousParticipant", target="Participant",
                       transform=ANONYMOUS_GUARD.guarded(migrate_anonymous), mapped=ANONYMOUS_MAPPED,
                       lookups=(CONVERSATIONS,) + ANONYMOUS_GUARD.lookups,
                       redact=("sessionToken",)),
    ),
    references=(
        Reference("Participant", "conversationId", "Conversation"),
        Reference("Participant", "userId", "User"),
    ),
)
