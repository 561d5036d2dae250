"""What the carried-over collections rename, drop or translate on their way to the target.

Kept apart from the steps because the lookups must judge a document exactly as its rule will
(a conversation or call session its rule quarantines is treated as absent by what refers to it).
"""
CONVERSATION_RENAMED = {"image": "avatar"}  # the conversation's picture; `banner` is the cover
CONVERSATION_DROPPED = {"isArchived": "the target archives per user (UserConversationPreferences."
                                      "isArchived), not per conversation"}
CALL_SESSION_DROPPED = {"createdAt": "startedAt is the call's creation (the target has no createdAt)",
                        "updatedAt": "the target's `version` counts a call's updates, not a date"}
# The legacy free-text end reason -> the target's CallEndReason.
CALL_SESSION_VALUES = {"endReason": {"hangup": "completed", "ended": "completed",
                                     "timeout": "heartbeatTimeout"}}
USER_STATS_DROPPED = {"lastActiveAt": "User.lastActiveAt is the one presence stamp the target keeps"}
