"""Users and what hangs off a user alone."""
from migration.engine import CollectionRule, Step

from ..carry_rules import USER_STATS_DROPPED
from ..coerce import model
from ..collisions import UniqueGuard
from ..passthrough import passthrough_rule
from ..transforms.users import USER_DROPPED, migrate_user, migrate_user_document

# username and email were unique in the legacy schemas too: a collision is a defect, quarantined.
USER_GUARD = UniqueGuard("User", "User", migrate_user_document)
USER_MAPPED = tuple(k for k, f in model("User").fields.items() if not f.is_id)

STEP = Step(
    id="0001-accounts",
    previous=None,
    description="User (MODO -> MODERATOR, lastSeen folded into lastActiveAt, new lists empty); "
                "per-user collections carried over",
    rules=(
        CollectionRule(source="User", target="User", transform=USER_GUARD.guarded(migrate_user),
                       mapped=USER_MAPPED, dropped=USER_DROPPED, lookups=USER_GUARD.lookups),
        passthrough_rule("UserStats", "UserStats", dropped=USER_STATS_DROPPED),
        passthrough_rule("FriendRequest", "FriendRequest"),
        passthrough_rule("AffiliateToken", "AffiliateToken"),
        passthrough_rule("AffiliateRelation", "AffiliateRelation"),
        passthrough_rule("AdminAuditLog", "AdminAuditLog"),
        passthrough_rule("UserPreference", "UserPreference"),  # stored in user_preference (@@map)
    ),
)
