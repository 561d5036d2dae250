"""Calls: snake_case collections renamed to their models."""
from migration.engine import CollectionRule, Step

from ..carry_rules import CALL_SESSION_DROPPED, CALL_SESSION_VALUES
from ..lookups import ANONYMOUS, CONVERSATIONS, MEMBERSHIPS, USERS
from ..passthrough import passthrough_rule
from ..transforms_refs import CALL_PARTICIPANT_MAPPED, CALLS, call_participant_transform

STEP = Step(
    id="0007-calls",
    previous="0006-notifications",
    description="call_sessions -> CallSession (endReason to the target enum), call_participants -> "
                "CallParticipant (userId/anonymousId -> participantId)",
    rules=(
        passthrough_rule("call_sessions", "CallSession", dropped=CALL_SESSION_DROPPED,
                         values=CALL_SESSION_VALUES),
        CollectionRule(source="call_participants", target="CallParticipant",
                       transform=call_participant_transform("calls"), mapped=CALL_PARTICIPANT_MAPPED,
                       lookups=(USERS, CONVERSATIONS, MEMBERSHIPS, ANONYMOUS, CALLS),
                       also_writes=("Participant",)),
    ),
)
