"""Notifications restructured."""
from migration.engine import CollectionRule, Step

from ..transforms_notifications import NOTIFICATION_MAPPED, migrate_notification

STEP = Step(
    id="0006-notifications",
    previous="0005-message-activity",
    description="Notification flat fields -> actor/context/metadata/delivery; data that is not JSON "
                "kept as metadata.raw",
    rules=(CollectionRule(source="Notification", target="Notification", transform=migrate_notification,
                          mapped=NOTIFICATION_MAPPED),),
)
