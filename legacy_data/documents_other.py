"""Legacy documents of the collections the new schema carries over unchanged, or only renames
(communities, calls, per-user preferences, social graph, affiliation, tracking, audit)."""
from __future__ import annotations

from datetime import timedelta
from typing import Iterator

from .defects import date_field, ref_field
from .documents_activity import call_session_ids
from .skeleton import Skeleton, object_id_at, random_moment


def communities(sk: Skeleton) -> Iterator[dict]:
    rng = sk.rng("Community")
    for i in range(sk.count("Community")):
        created = random_moment(rng)
        doc = {"_id": object_id_at(rng, created), "identifier": f"mshy_community_{i}",
               "name": f"Community {i}"}
        if rng.random() < 0.5:
            doc["description"] = "A place to meet"
        doc.update(isPrivate=rng.random() < 0.5, createdBy=rng.choice(sk.users), createdAt=created,
                   updatedAt=random_moment(rng, created))
        yield doc


def community_members(sk: Skeleton) -> Iterator[dict]:
    rng = sk.rng("CommunityMember")
    community_ids = [doc["_id"] for doc in communities(sk)]
    for _ in range(sk.count("CommunityMember")):
        joined = random_moment(rng)
        yield {"_id": object_id_at(rng, joined), "communityId": rng.choice(community_ids),
               "userId": rng.choice(sk.users), "role": rng.choice(["member", "member", "admin"]),
               "joinedAt": joined, "isActive": True}


def call_sessions(sk: Skeleton) -> Iterator[dict]:
    rng = sk.rng("call_sessions")
    for _id, conv, started in call_session_ids(sk):
        status = rng.choice(["ended", "ended", "missed", "rejected"])
        doc = {"_id": _id, "conversationId": sk.conversations[conv], "mode": "p2p", "status": status,
               "initiatorId": (sk.members_of[conv] or sk.users)[0], "startedAt": date_field(rng, started)}
        if status == "ended":
            seconds = rng.randrange(5, 3600)
            doc.update(answeredAt=started + timedelta(seconds=2),
                       endedAt=started + timedelta(seconds=seconds + 2),
                       duration=seconds, endReason="hangup")
        doc.update(createdAt=started, updatedAt=started)
        yield doc


def call_participants(sk: Skeleton) -> Iterator[dict]:
    rng = sk.rng("call_participants")
    calls = call_session_ids(sk)
    for i in range(sk.count("call_participants")):
        call_id, conv, started = calls[i % len(calls)]
        joined = started + timedelta(seconds=rng.randrange(0, 30))
        doc = {"_id": object_id_at(rng, joined), "callSessionId": ref_field(rng, call_id),
               "userId": rng.choice(sk.members_of[conv] or sk.users),
               "role": "initiator" if i < len(calls) else "participant", "joinedAt": joined}
        if rng.random() < 0.8:
            doc["leftAt"] = joined + timedelta(seconds=rng.randrange(5, 3600))
        doc.update(isAudioEnabled=True, isVideoEnabled=rng.random() < 0.5)
        yield doc


def user_conversation_categories(sk: Skeleton) -> Iterator[dict]:
    rng = sk.rng("user_conversation_categories")
    for i in range(sk.count("user_conversation_categories")):
        created = random_moment(rng)
        doc = {"_id": object_id_at(rng, created), "userId": sk.users[i % len(sk.users)],
               "name": f"Category {i}"}
        if rng.random() < 0.5:
            doc["color"] = "#3366ff"
        doc.update(order=i, isExpanded=True, createdAt=created, updatedAt=created)
        yield doc


def user_conversation_preferences(sk: Skeleton) -> Iterator[dict]:
    rng = sk.rng("user_conversation_preferences")
    categories = [(c["_id"], c["userId"]) for c in user_conversation_categories(sk)]
    pairs = [(sk.conversations[conv], user) for conv, user in sk.memberships if user in sk.users_set]
    chosen = rng.sample(sorted(set(pairs)), min(sk.count("user_conversation_preferences"), len(set(pairs))))
    if len(chosen) > 1:  # a real-data defect: a second preference of one user for one conversation
        chosen[-1] = chosen[0]
    for conversation_id, user in chosen:
        created = random_moment(rng)
        doc = {"_id": object_id_at(rng, created), "userId": user, "conversationId": conversation_id,
               "isPinned": rng.random() < 0.3, "isMuted": rng.random() < 0.2, "isArchived": False,
               "tags": ["work"] if rng.random() < 0.2 else []}
        own = [c for c, owner in categories if owner == user]
        if own:
            doc.update(categoryId=own[0], orderInCategory=0)
        doc.update(createdAt=created, updatedAt=created)
        yield doc


def friend_requests(sk: Skeleton) -> Iterator[dict]:
    rng = sk.rng("FriendRequest")
    for _ in range(sk.count("FriendRequest")):
        created = random_moment(rng)
        sender, receiver = rng.choice(sk.users), rng.choice(sk.users)
        status = rng.choice(["pending", "accepted", "rejected"])
        doc = {"_id": object_id_at(rng, created), "senderId": sender, "receiverId": receiver,
               "status": status}
        if status != "pending":
            doc["respondedAt"] = created + timedelta(hours=rng.randrange(1, 200))
        doc.update(createdAt=created, updatedAt=created)
        yield doc


def user_stats(sk: Skeleton) -> Iterator[dict]:
    rng = sk.rng("UserStats")
    for user in rng.sample(sk.users, min(sk.count("UserStats"), len(sk.users))):
        created = random_moment(rng)
        doc = {"_id": object_id_at(rng, created), "userId": user}
        for counter in ("messagesSent", "messagesReceived", "charactersTyped", "imageMessagesSent",
                        "filesShared", "conversationsJoined", "communitiesCreated", "friendsAdded",
                        "friendRequestsSent", "translationsUsed", "languagesDetected",
                        "autoTranslateTimeMinutes", "totalOnlineTimeMinutes", "sessionCount"):
            doc[counter] = rng.randrange(0, 500)
        doc.update(createdAt=created, updatedAt=random_moment(rng, created))
        yield doc


def affiliate_tokens(sk: Skeleton) -> Iterator[dict]:
    rng = sk.rng("AffiliateToken")
    for i in range(sk.count("AffiliateToken")):
        created = random_moment(rng)
        yield {"_id": object_id_at(rng, created), "token": f"aff_{i}_{rng.getrandbits(40):010x}",
               "name": f"Campaign {i}", "createdBy": rng.choice(sk.users), "currentUses": rng.randrange(10),
               "isActive": True, "createdAt": created, "updatedAt": created}


def affiliate_relations(sk: Skeleton) -> Iterator[dict]:
    rng = sk.rng("AffiliateRelation")
    tokens = [(t["_id"], t["createdBy"]) for t in affiliate_tokens(sk)]
    for _ in range(sk.count("AffiliateRelation")):
        token, owner = rng.choice(tokens)
        created = random_moment(rng)
        doc = {"_id": object_id_at(rng, created), "affiliateTokenId": token, "affiliateUserId": owner,
               "referredUserId": rng.choice(sk.users), "status": rng.choice(["pending", "completed"]),
               "createdAt": created}
        if doc["status"] == "completed":
            doc["completedAt"] = created + timedelta(hours=1)
        yield doc


def tracking_links(sk: Skeleton) -> Iterator[dict]:
    rng = sk.rng("TrackingLink")
    for i in range(sk.count("TrackingLink")):
        created = random_moment(rng)
        token = f"{i:03x}{rng.getrandbits(12):03x}"
        yield {"_id": object_id_at(rng, created), "token": token, "originalUrl": f"https://example.com/page/{i}",
               "shortUrl": f"https://meeshy.example/l/{token}", "createdBy": rng.choice(sk.users),
               "totalClicks": rng.randrange(50), "uniqueClicks": rng.randrange(20), "isActive": True,
               "createdAt": created, "updatedAt": created}


def tracking_link_clicks(sk: Skeleton) -> Iterator[dict]:
    rng = sk.rng("TrackingLinkClick")
    links = [link["_id"] for link in tracking_links(sk)]
    for _ in range(sk.count("TrackingLinkClick")):
        clicked = random_moment(rng)
        doc = {"_id": object_id_at(rng, clicked), "trackingLinkId": rng.choice(links)}
        if rng.random() < 0.3:
            doc["userId"] = rng.choice(sk.users)
        doc.update(ipAddress=f"192.0.2.{rng.randrange(1, 255)}", country=rng.choice(["FR", "CM", "US"]),
                   browser=rng.choice(["Chrome", "Safari", "Firefox"]),
                   device=rng.choice(["mobile", "desktop"]),
                   clickedAt=date_field(rng, clicked))
        yield doc


def admin_audit_logs(sk: Skeleton) -> Iterator[dict]:
    rng = sk.rng("AdminAuditLog")
    for _ in range(sk.count("AdminAuditLog")):
        created = random_moment(rng)
        user = rng.choice(sk.users)
        doc = {"_id": object_id_at(rng, created), "userId": user, "adminId": rng.choice(sk.users),
               "action": rng.choice(["VIEW_USER", "UPDATE_ROLE", "DEACTIVATE_USER"]), "entity": "User",
               "entityId": str(user)}
        if doc["action"] == "UPDATE_ROLE":
            doc["changes"] = '{"role": ["MODO", "ADMIN"]}'
        doc.update(ipAddress="10.0.0.2", createdAt=created)
        yield doc
