"""The Meeshy chain, one module per step, in the order they apply.

Referential-integrity checks are declared for the collections the chain restructures (where
its transforms guarantee them: participants, messages, statuses, reactions). Carried-over
collections keep the references production had; a dangling one there predates the migration
and is not a reason to fail it. Steps that depend on an operators' decision
(migration/meeshy/decisions.py) are built for it; CHAIN is the chain with the operators' own
choices.
"""
from ..decisions import resolve
from . import (
    s0001_accounts,
    s0002_conversations,
    s0003_participants,
    s0004_messages,
    s0005_message_activity,
    s0006_notifications,
    s0007_calls,
    s0008_retired_collections,
    s0009_later_collections,
)


def build_chain(decisions=None) -> list:
    """The steps for `decisions` ({name: value}; the operators' defaults for the others)."""
    chosen = resolve(decisions)
    return [s0001_accounts.STEP, s0002_conversations.STEP, s0003_participants.STEP, s0004_messages.STEP,
            s0005_message_activity.step(chosen["read-statuses"]),
            s0006_notifications.step(chosen["notifications"]),
            s0007_calls.STEP, s0008_retired_collections.step(chosen["read-statuses"]),
            s0009_later_collections.STEP]


CHAIN = build_chain()
