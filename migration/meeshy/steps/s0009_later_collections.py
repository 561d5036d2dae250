"""Collections the legacy schemas declare that production's snapshot did not hold: the second
schema's own models (carried over, or re-pointed to participants), and the first schema's
snake_case collections renamed to the target's models. Each migrates if a legacy database has it."""
import re

from migration.engine import CollectionRule, Step, Write

from ..carry_rules import (
    CALL_SESSION_DROPPED,
    CALL_SESSION_VALUES,
    NOTIFICATION_PREFERENCE_DROPPED,
    NOTIFICATION_PREFERENCE_RENAMED,
    USER_CONVERSATION_PREFERENCES_DROPPED,
)
from ..passthrough import passthrough_rule
from ..transforms.messages import MESSAGES
from ..transforms.participants import token_hash
from ..transforms.refs import LATE_CALLS, call_participant_rule
from ..transforms.repoint import repointed_rule
from .s0002_conversations import PREFERENCES_COLLISIONS

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
# The target stores a session's token as its SHA-256 hex; the first legacy schema allowed "a JWT
# token hash or a session ID" there. A value that is not already a SHA-256 hex is hashed, so no
# plain token reaches the target (such a session then no longer matches: its user signs in
# again), and both are kept out of _quarantine.
SESSION_SECRETS = ("sessionToken", "refreshToken")
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
MODEL_OF = {"user_preferences": "UserPreferences", "user_preference": "UserPreference"}


def _hashed_secrets(transform):
    def hashing(doc: dict, ctx):
        for outcome in transform(doc, ctx):
            if isinstance(outcome, Write):
                secrets = {k: token_hash(v) for k, v in outcome.doc.items()
                           if k in SESSION_SECRETS and isinstance(v, str) and not SHA256_HEX.match(v)}
                outcome = Write({**outcome.doc, **secrets}, outcome.collection)
            yield outcome
    hashing.__name__ = hashing.__qualname__ = f"hashed_{transform.__name__}"
    return hashing


def _session_rule(source: str) -> CollectionRule:
    rule = passthrough_rule(source, "UserSession")
    return CollectionRule(**{**rule.__dict__, "transform": _hashed_secrets(rule.transform),
                             "redact": SESSION_SECRETS})


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
