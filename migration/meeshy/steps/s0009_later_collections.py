"""Collections the legacy schemas declare that production's snapshot did not hold: the second
schema's own models (carried over, or re-pointed to participants), and the first schema's
snake_case collections renamed to the target's models. Each migrates if a legacy database has it."""
from migration.engine import CollectionRule, Step

from ..carry_rules import (CALL_SESSION_DROPPED, CALL_SESSION_VALUES, NOTIFICATION_PREFERENCE_DROPPED,
                           NOTIFICATION_PREFERENCE_RENAMED, USER_CONVERSATION_PREFERENCES_DROPPED)
from ..passthrough import passthrough_rule
from .s0002_conversations import PREFERENCES_COLLISIONS
from ..transforms_messages import MESSAGES
from ..transforms_refs import LATE_CALLS, call_participant_rule
from ..transforms_repoint import repointed_rule

# Same collection and fields in the target (the second legacy schema already had their shape).
CARRIED = ("ConversationShare", "user_preferences", "user_preference", "Report", "Transcription",
           "TranslationCall",
           "UserConversationCategory", "UserCommunityPreferences", "PasswordResetToken",
           "PhonePasswordResetToken", "MagicLinkToken", "PasswordHistory", "SecurityEvent",
           "SignalPreKeyBundle", "ConversationPublicKey", "ServerEncryptionKey", "DMASession",
           "DMAEnrollment", "PreKey", "UserVoiceModel", "UserMessageDeletion", "PushToken")
# The first legacy schema's collection -> the target model now stored under the model's name.
RENAMED = {"transcriptions": "Transcription", "translation_calls": "TranslationCall",
           "password_reset_tokens": "PasswordResetToken", "password_history": "PasswordHistory",
           "security_events": "SecurityEvent", "signal_pre_key_bundles": "SignalPreKeyBundle"}
# Token columns the services already store hashed; kept out of _quarantine all the same.
SESSION_SECRETS = ("sessionToken", "refreshToken")
MODEL_OF = {"user_preferences": "UserPreferences", "user_preference": "UserPreference"}


def _session_rule(source: str) -> CollectionRule:
    rule = passthrough_rule(source, "UserSession")
    return CollectionRule(**{**rule.__dict__, "redact": SESSION_SECRETS})


STEP = Step(
    id="0009-later-collections",
    previous="0008-retired-collections",
    description="collections production's snapshot did not hold: carried over, renamed from the first "
                "schema's snake_case names, or userId/anonymousId re-pointed to participantId",
    rules=tuple(passthrough_rule(name, MODEL_OF.get(name, name)) for name in CARRIED) + tuple(
        passthrough_rule(name, model) for name, model in RENAMED.items()) + (
        _session_rule("UserSession"), _session_rule("user_sessions"),
        passthrough_rule("notification_preferences", "NotificationPreference",
                         renamed=NOTIFICATION_PREFERENCE_RENAMED, dropped=NOTIFICATION_PREFERENCE_DROPPED),
        passthrough_rule("UserConversationPreferences", "UserConversationPreferences",
                         dropped=USER_CONVERSATION_PREFERENCES_DROPPED, collisions=PREFERENCES_COLLISIONS),
        passthrough_rule("CallSession", "CallSession", dropped=CALL_SESSION_DROPPED,
                         values=CALL_SESSION_VALUES),
        call_participant_rule("CallParticipant", LATE_CALLS),
        repointed_rule("MessageStatusEntry", "MessageStatusEntry", extra_lookups=(MESSAGES,)),
        repointed_rule("AttachmentStatusEntry", "AttachmentStatusEntry", extra_lookups=(MESSAGES,)),
        repointed_rule("AttachmentReaction", "AttachmentReaction", extra_lookups=(MESSAGES,)),
        repointed_rule("ConversationReadCursor", "ConversationReadCursor"),
    ),
)
