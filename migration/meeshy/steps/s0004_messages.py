"""Messages with their translations embedded, and what refers to a message alone."""
from migration.engine import Children, CollectionRule, Reference, Step

from ..coerce import model
from ..lookups import ANONYMOUS, CONVERSATIONS, MEMBERSHIPS, USERS
from ..passthrough import passthrough_rule
from ..transforms.messages import (
                                   MESSAGE_DROPPED,
                                   MESSAGES,
                                   TRANSLATION_DROPPED,
                                   TRANSLATION_MAPPED,
                                   TRANSLATION_WINNERS,
                                   migrate_message,
                                   migrate_translation,
)
from ..transforms.refs import LINK_CONVERSATIONS, MENTION_MAPPED, migrate_click, migrate_mention

CONTEXT = (USERS, CONVERSATIONS, MEMBERSHIPS, ANONYMOUS, MESSAGES)
CLICK_MAPPED = tuple(k for k, f in model("TrackingLinkClick").fields.items() if not f.is_id) \
    + ("userId", "anonymousId")
MESSAGE_MAPPED = tuple(k for k, f in model("Message").fields.items() if not f.is_id and k != "translations") \
    + ("isDeleted", "anonymousSenderId")

STEP = Step(
    id="0004-messages",
    previous="0003-participants",
    description="Message: sender -> Participant (historical and 'Deleted user' participants created), "
                "isDeleted -> deletedAt, MessageTranslation embedded (latest per language)",
    rules=(
        CollectionRule(source="Message", target="Message", transform=migrate_message, mapped=MESSAGE_MAPPED,
                       dropped=MESSAGE_DROPPED,
                       lookups=(USERS, CONVERSATIONS, MEMBERSHIPS, ANONYMOUS),
                       children=(Children("translations", "MessageTranslation", "messageId"),),
                       also_writes=("Participant",)),
        CollectionRule(source="MessageTranslation", target="Message", transform=migrate_translation,
                       mapped=TRANSLATION_MAPPED, dropped=TRANSLATION_DROPPED,
                       lookups=(USERS, CONVERSATIONS, ANONYMOUS, MESSAGES, TRANSLATION_WINNERS)),
        passthrough_rule("MessageAttachment", "MessageAttachment"),
        CollectionRule(source="Mention", target="Mention", transform=migrate_mention, mapped=MENTION_MAPPED,
                       lookups=CONTEXT, also_writes=("Participant",)),
        passthrough_rule("TrackingLink", "TrackingLink"),
        CollectionRule(source="TrackingLinkClick", target="TrackingLinkClick", transform=migrate_click,
                       mapped=CLICK_MAPPED, lookups=(USERS, CONVERSATIONS, MEMBERSHIPS, ANONYMOUS,
                                                     LINK_CONVERSATIONS), also_writes=("Participant",)),
    ),
    references=(
        Reference("Message", "conversationId", "Conversation"),
        Reference("Message", "senderId", "Participant", scope="conversationId"),
    ),
)
