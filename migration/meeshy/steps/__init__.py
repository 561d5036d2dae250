"""The Meeshy chain, one module per step, in the order they apply.

Referential-integrity checks are declared for the collections the chain restructures (where
its transforms guarantee them: participants, messages, statuses, reactions). Carried-over
collections keep the references production had; a dangling one there predates the migration
and is not a reason to fail it.
"""
from . import (s0001_accounts, s0002_conversations, s0003_participants, s0004_messages,
               s0005_message_activity, s0006_notifications, s0007_calls, s0008_retired_collections,
               s0009_later_collections)

CHAIN = [module.STEP for module in (
    s0001_accounts, s0002_conversations, s0003_participants, s0004_messages,
    s0005_message_activity, s0006_notifications, s0007_calls, s0008_retired_collections,
    s0009_later_collections)]
