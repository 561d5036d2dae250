"""Notifications: restructured, or dropped by the operators' decision (the default)."""
from migration.engine import CollectionRule, DropCollection, Step

from ..decisions import dropped_by_decision
from ..transforms.notifications import NOTIFICATION_MAPPED, migrate_notification


def step(notifications: str) -> Step:
    if notifications == "drop":
        rule = DropCollection("Notification", dropped_by_decision("notifications", notifications))
    else:
        rule = CollectionRule(source="Notification", target="Notification", transform=migrate_notification,
                              mapped=NOTIFICATION_MAPPED)
    return Step(
        id="0006-notifications",
        previous="0005-message-activity",
        description="Notification flat fields -> actor/context/metadata/delivery (data that is not JSON kept "
                    "as metadata.raw), or dropped by decision",
        rules=(rule,),
    )
