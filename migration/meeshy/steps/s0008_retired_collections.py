"""Collections the new schema has no model for: dropped by explicit rule, and counted."""
from migration.engine import DropCollection, Step

from ..decisions import dropped_by_decision


def step(read_statuses: str) -> Step:
    read = () if read_statuses == "migrate" else (
        DropCollection("MessageReadStatus", dropped_by_decision("read-statuses", read_statuses)),)
    return Step(
        id="0008-retired-collections",
        previous="0007-calls",
        description="old_message_status, MessageAttachment_backup_urls and TypingIndicator dropped (no "
                    "target model); MessageReadStatus too when decided",
        rules=read + (
            DropCollection("old_message_status",
                           "leftover of an earlier status format, superseded by MessageStatus"),
            DropCollection("MessageAttachment_backup_urls",
                           "backup of attachment URLs from a finished URL rewrite"),
            DropCollection("TypingIndicator", "transient typing state, meaningless after a restart"),
        ),
    )
