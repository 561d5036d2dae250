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
# The first legacy schema's notification settings, under the names the target gives them.
NOTIFICATION_PREFERENCE_RENAMED = {
    "pushEnabled": "pushNotifications", "emailEnabled": "emailNotifications",
    "newMessageEnabled": "newMessage", "missedCallEnabled": "missedCall", "replyEnabled": "messageReply",
    "mentionEnabled": "messageMention", "conversationEnabled": "newConversation",
    "contactRequestEnabled": "friendRequest"}
NOTIFICATION_PREFERENCE_DROPPED = {f: "the target has no such notification setting" for f in
                                   ("systemEnabled", "reactionEnabled", "memberJoinedEnabled")}
USER_CONVERSATION_PREFERENCES_DROPPED = {
    "isDeletedForUser": "the target marks a conversation deleted for one user on that user's Participant "
                        "(deletedForMe, a date the legacy flag does not carry); not migrated"}
