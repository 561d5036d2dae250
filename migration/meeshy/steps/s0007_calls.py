"""Calls: snake_case collections renamed to their models."""
from migration.engine import Step

from ..passthrough import passthrough_rule

STEP = Step(
    id="0007-calls",
    previous="0006-notifications",
    description="call_sessions -> CallSession, call_participants -> CallParticipant",
    rules=(
        passthrough_rule("call_sessions", "CallSession"),
        passthrough_rule("call_participants", "CallParticipant"),
    ),
)
