"""The Meeshy chain, one module per step, in the order they apply."""
from . import (s0001_accounts, s0002_conversations, s0003_participants, s0004_messages,
               s0005_message_activity, s0006_notifications, s0007_calls, s0008_retired_collections)

CHAIN = [module.STEP for module in (
    s0001_accounts, s0002_conversations, s0003_participants, s0004_messages,
    s0005_message_activity, s0006_notifications, s0007_calls, s0008_retired_collections)]
