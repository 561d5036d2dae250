"""Calls: snake_case collections renamed to their models."""
from migration.engine import Step

from ..carry_rules import CALL_SESSION_DROPPED, CALL_SESSION_VALUES
from ..passthrough import passthrough_rule
from ..transforms.refs import CALLS, call_participant_rule

STEP = Step(
    id="0007-calls",
    previous="0006-notifications",
    description="call_sessions -> CallSession (endReason to the target enum), call_participants -> "
                "CallParticipant (userId/anonymousId -> participantId)",
    rules=(
        passthrough_rule("call_sessions", "CallSession", dropped=CALL_SESSION_DROPPED,
                         values=CALL_SESSION_VALUES),
        call_participant_rule("call_participants", CALLS),
    ),
)
