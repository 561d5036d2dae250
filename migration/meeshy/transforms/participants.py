"""ConversationMember and AnonymousParticipant -> Participant, and the participants other
collections need but the legacy data never recorded (historical senders, deleted users)."""
from __future__ import annotations

import hashlib
from datetime import datetime

from migration.engine import Merge, Quarantine, Write, derived_id

from ..coerce import Invalid, as_date, as_object_id, coerce_document, date, static_defaults
from ..lookups import membership_key

DELETED_USER_NAME = "Deleted user"
UNKNOWN_NAME, ANONYMOUS_NAME = "Unknown", "Anonymous"  # the authors' fallbacks
# Target flag -> the legacy names it was stored under (members used the singular form).
PERMISSION_SOURCES = {
    "canSendMessages": ("canSendMessages", "canSendMessage"),
    "canSendFiles": ("canSendFiles",), "canSendImages": ("canSendImages",),
    "canSendVideos": ("canSendVideos",), "canSendAudios": ("canSendAudios",),
    "canSendLocations": ("canSendLocations",), "canSendLinks": ("canSendLinks",),
    "canViewHistory": ("canViewHistory",),
}
PERMISSION_FIELDS = tuple(name for names in PERMISSION_SOURCES.values() for name in names)
MEMBER_DATE_FIELDS = ("joinedAt", "leftAt")


def user_participant_id(conversation_id, user_id):
    """One Participant per (conversation, user), whichever legacy document produced it."""
    return derived_id("Participant", "user", conversation_id, user_id)


def deleted_user_participant_id(conversation_id):
    return derived_id("Participant", "deleted-user", conversation_id)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def permissions(doc: dict, missing=None) -> dict:
    """The embedded permissions. A flag the legacy document lacks takes `missing` when given
    (the authors' rule for members: true, what their legacy schema defaulted to), else the
    target's default; canViewHistory was never recorded and takes the target's default."""
    defaults = static_defaults("ParticipantPermissions")
    out = {}
    for target, sources in PERMISSION_SOURCES.items():
        fallback = defaults.get(target) if missing is None or target == "canViewHistory" else missing
        value = next((doc[s] for s in sources if doc.get(s) is not None), fallback)
        out[target] = bool(value)
    return out


def display_name(profile) -> str:
    """The authors' rule for a user participant: the user's displayName, then username."""
    return profile[0] or profile[1] or UNKNOWN_NAME


def anonymous_display_name(doc: dict) -> str:
    """The authors' rule for an anonymous one: "firstName lastName", then username."""
    full = " ".join(p for p in (doc.get("firstName"), doc.get("lastName")) if p)
    return full or doc.get("username") or ANONYMOUS_NAME


def membership_problem(doc: dict) -> str | None:
    """What keeps one membership document from being migrated, judged on the document alone."""
    conversation, user = membership_key(doc)
    if conversation is None:
        return f"conversationId {doc.get('conversationId')!r} is not an ObjectId reference"
    if user is None:
        return f"userId {doc.get('userId')!r} is not an ObjectId reference"
    for field in MEMBER_DATE_FIELDS:
        if doc.get(field) is not None and as_date(doc[field]) is None:
            return f"{field}: {doc[field]!r} is not a date"
    return None


def parent_quarantined(collection: str, parent_id, why: str | None = None) -> str:
    """The reason of a document quarantined because what it refers to is (a cascade)."""
    return f"parent quarantined: {collection} {parent_id}" + (f" ({why})" if why else "")


def conversation_problem(conversation_id, ctx) -> str | None:
    """Why documents of this conversation cannot be migrated, or None when it is migrated."""
    conversations = ctx.lookup("conversations")
    if conversation_id not in conversations:
        return f"conversation {conversation_id} does not exist"
    if conversations[conversation_id] is None:
        return parent_quarantined("Conversation", conversation_id)
    return None


def user_problem(user_id, ctx) -> str | None:
    users = ctx.lookup("users")
    if user_id not in users:
        return f"user {user_id} does not exist"
    if users[user_id] is None:
        return parent_quarantined("User", user_id)
    return None


def anonymous_problem(anonymous_id, conversation_id, ctx) -> str | None:
    """Why an anonymous participant cannot be the one of this conversation, or None."""
    owner = ctx.lookup("anonymous").get(anonymous_id, "missing")
    if owner == "missing":
        return f"anonymous participant {anonymous_id} does not exist"
    if owner is None:
        return parent_quarantined("AnonymousParticipant", anonymous_id)
    if owner != conversation_id:
        return f"anonymous participant {anonymous_id} belongs to another conversation"
    return None


def usable_memberships(conversation_id, user_id, ctx) -> list:
    """The membership documents that will form this user's Participant (empty: none will)."""
    if conversation_problem(conversation_id, ctx) or user_problem(user_id, ctx):
        return []
    group = ctx.lookup("memberships").get((conversation_id, user_id), ())
    return [d for d in group if membership_problem(d) is None]


def merge_memberships(group: list, profile) -> dict:
    """One Participant from one or more memberships of a user in a conversation: the earliest
    joinedAt, active if any was; role, permissions and nickname from the most recent one."""
    joined = [date(d["joinedAt"], "joinedAt") for d in group if d.get("joinedAt") is not None]
    active = [d for d in group if d.get("isActive", True)]
    latest = max(active or group, key=lambda d: (as_date(d.get("joinedAt")) or datetime.min, d["_id"]))
    conversation_id, user_id = membership_key(group[0])
    out = {"_id": user_participant_id(conversation_id, user_id), "conversationId": conversation_id,
           "type": "user", "userId": user_id, "displayName": display_name(profile)}
    if profile[4] is not None:
        out["avatar"] = profile[4]
    out["role"] = latest.get("role", "member")
    out["permissions"] = permissions(latest, missing=True)
    out["language"] = profile[5] or static_defaults("Participant")["language"]
    out["isActive"] = bool(active)
    out["joinedAt"] = min(joined) if joined else id_time(group[0]["_id"])
    out.update(presence(profile, out["joinedAt"]))
    left = [as_date(d["leftAt"]) for d in group if d.get("leftAt") is not None]
    if not active and left:
        out["leftAt"] = max(left)
    if latest.get("nickname") is not None:
        out["nickname"] = latest["nickname"]
    return coerce_document(out, "Participant")


def migrate_member(doc: dict, ctx):
    problem = membership_problem(doc)
    if problem:
        yield Quarantine(problem)
        return
    conversation_id, user_id = membership_key(doc)
    problem = conversation_problem(conversation_id, ctx)
    if problem:
        yield Quarantine(problem)
        return
    problem = user_problem(user_id, ctx)
    if problem:
        yield Quarantine(problem)
        return
    profile = ctx.lookup("users")[user_id]
    group = usable_memberships(conversation_id, user_id, ctx)
    if group[0]["_id"] != doc["_id"]:
        yield Merge(user_participant_id(conversation_id, user_id),
                    f"duplicate membership of user {user_id} in conversation {conversation_id}")
        return
    yield Write(merge_memberships(group, profile))


def presence(profile, joined) -> dict:
    """Nobody is connected while the database is migrated (the authors write isOnline false);
    the last activity is the user's own (the authors stamp the migration's moment instead,
    which would make two runs differ), or the participant's joinedAt."""
    return {"isOnline": False, "lastActiveAt": profile[6] or joined}


def id_time(object_id):
    """When a document without its own date was made: its ObjectId's time."""
    return object_id.generation_time.replace(tzinfo=None)


def historical_participant(conversation_id, user_id, ctx) -> dict:
    """An inactive Participant for a user who wrote or read in a conversation without a
    membership there; joinedAt is the conversation's creation, the earliest honest bound."""
    profile, joined = ctx.lookup("users")[user_id], ctx.lookup("conversations")[conversation_id]
    return coerce_document({
        "_id": user_participant_id(conversation_id, user_id), "conversationId": conversation_id,
        "type": "user", "userId": user_id, "displayName": display_name(profile), **_avatar(profile),
        "role": "member", "permissions": permissions({}, missing=True),
        "language": profile[5] or static_defaults("Participant")["language"],
        "isActive": False, "joinedAt": joined, **presence(profile, joined),
    }, "Participant")


def _avatar(profile) -> dict:
    return {} if profile[4] is None else {"avatar": profile[4]}


def deleted_user_participant(conversation_id, ctx) -> dict:
    """The one inactive stand-in per conversation for senders whose account is gone."""
    joined = ctx.lookup("conversations")[conversation_id]
    return coerce_document({
        "_id": deleted_user_participant_id(conversation_id), "conversationId": conversation_id,
        "type": "user", "displayName": DELETED_USER_NAME, "role": "member",
        "permissions": permissions({}, missing=True),
        "language": static_defaults("Participant")["language"],
        "isActive": False, "isOnline": False, "lastActiveAt": joined, "joinedAt": joined,
    }, "Participant")


def participant_for_user(conversation_id, user_id, ctx, deleted_allowed: bool):
    """(participant id, Participant to write alongside or None, problem or None) for a user
    in a conversation.

    A user with a usable membership already has a Participant; one without gets a historical
    one; a user that no longer exists maps to the conversation's "Deleted user" placeholder
    when `deleted_allowed`. A quarantined user is a problem: what refers to it waits for it.
    """
    users = ctx.lookup("users")
    if user_id not in users and deleted_allowed:
        return (deleted_user_participant_id(conversation_id),
                deleted_user_participant(conversation_id, ctx), None)
    problem = user_problem(user_id, ctx)
    if problem:
        return None, None, problem
    if usable_memberships(conversation_id, user_id, ctx):
        return user_participant_id(conversation_id, user_id), None, None
    return (user_participant_id(conversation_id, user_id),
            historical_participant(conversation_id, user_id, ctx), None)


ANONYMOUS_MAPPED = ("conversationId", "shareLinkId", "firstName", "lastName", "username", "email",
                    "birthday", "sessionToken", "ipAddress", "country", "language", "deviceFingerprint",
                    "joinedAt", "lastSeenAt", "lastActiveAt", "isOnline", "leftAt",
                    "isActive") + PERMISSION_FIELDS


def anonymous_document(doc: dict) -> dict:
    """The Participant of an anonymous one (Invalid when it has no session token)."""
    token = doc.get("sessionToken")
    if not isinstance(token, str) or not token:
        raise Invalid("sessionToken is missing: the participant could never reconnect")
    return anonymous_participant(doc, token_hash(token))


def migrate_anonymous(doc: dict, ctx):
    try:
        participant = anonymous_document(doc)
    except Invalid as exc:
        yield Quarantine(str(exc))
        return
    problem = conversation_problem(participant["conversationId"], ctx)
    if problem:
        yield Quarantine(problem)
        return
    yield Write(participant)


ANONYMOUS_LANGUAGE = "fr"  # the legacy AnonymousParticipant default, which the authors keep


def anonymous_participant(doc: dict, hashed: str) -> dict:
    joined = date(doc.get("joinedAt"), "joinedAt")
    session = {"sessionTokenHash": hashed}
    for field in ("ipAddress", "country", "deviceFingerprint"):
        if doc.get(field) is not None:
            session[field] = doc[field]
    session["connectedAt"] = joined
    profile = {f: doc.get(f) or "" for f in ("firstName", "lastName", "username")}
    profile.update({f: doc[f] for f in ("email", "birthday") if doc.get(f) is not None})
    out = {"_id": doc["_id"], "conversationId": doc.get("conversationId"), "type": "anonymous",
           "displayName": anonymous_display_name(doc), "role": "member", "permissions": permissions(doc),
           "language": doc.get("language") or ANONYMOUS_LANGUAGE,
           "isActive": doc.get("isActive", True), "isOnline": bool(doc.get("isOnline", False)),
           "joinedAt": joined}
    if doc.get("leftAt") is not None:
        out["leftAt"] = doc["leftAt"]
    # Both names were used for the anonymous presence stamp; the later one is the truth.
    seen = [date(doc[f], f) for f in ("lastSeenAt", "lastActiveAt") if doc.get(f) is not None]
    out["lastActiveAt"] = max(seen) if seen else joined
    out["sessionTokenHash"] = hashed
    link = doc.get("shareLinkId")
    if as_object_id(link) is not None:
        out["shareLinkId"] = as_object_id(link)
    # The authors keep the link as a string inside the session ("" when there was none).
    out["anonymousSession"] = {"shareLinkId": "" if link is None else str(link), "session": session,
                               "profile": profile}
    return coerce_document(out, "Participant")
