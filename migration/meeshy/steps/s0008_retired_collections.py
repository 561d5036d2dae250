"""Collections the new schema has no model for: dropped by explicit rule, and counted."""
from migration.engine import DropCollection, Step

STEP = Step(
    id="0008-retired-collections",
    previous="0007-calls",
    description="MessageReadStatus, old_message_status, MessageAttachment_backup_urls and "
                "TypingIndicator dropped (no target model)",
    rules=(
        DropCollection("MessageReadStatus", "superseded by MessageStatus.readAt (MessageStatusEntry)"),
        DropCollection("old_message_status", "leftover of an earlier status format, superseded by MessageStatus"),
        DropCollection("MessageAttachment_backup_urls", "backup of attachment URLs from a finished URL rewrite"),
        DropCollection("TypingIndicator", "transient typing state, meaningless after a restart"),
    ),
)
