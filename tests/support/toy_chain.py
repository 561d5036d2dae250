"""A tiny generic chain for the engine's tests: renames, enum mapping, a dropped field and
collection, merged duplicates, a shared placeholder, children embedded by sorted merge,
quarantine, references. Not Meeshy: the engine must work for any chain."""
from __future__ import annotations

import datetime as dt
import pathlib

from migration.engine import (
    Children,
    CollectionRule,
    Drop,
    DropCollection,
    Lookup,
    Merge,
    Quarantine,
    Reference,
    Step,
    Write,
    derived_id,
)

SCHEMA_PATH = pathlib.Path(__file__).with_name("toy_schema.prisma")


def _date(value):
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).replace(tzinfo=None)
    return value


def person(doc, ctx):
    out = {"_id": doc["_id"], "email": doc.get("email"), "name": doc["name"],
           "role": {"boss": "ADMIN"}.get(doc.get("role"), "MEMBER"),
           "joinedAt": _date(doc["joined"]), "nicknames": list(doc.get("nicknames", []))}
    if "email" not in doc:
        out.pop("email")  # left to the schema validator: a required field is missing
    if "score" in doc:
        out["score"] = doc["score"]
    yield Write(out)


def team(doc, ctx):
    if doc.get("archived"):
        yield Drop("archived teams are not migrated")
        return
    yield Write({"_id": doc["_id"], "title": doc["name"], "size": doc.get("size", 0)})


def member_id(team_id, person_id):
    return derived_id("member", team_id, person_id)


def ghost_id():
    return derived_id("ghost")


def membership(doc, ctx):
    team_id, person_id = doc["team"], doc["person"]
    if team_id not in ctx.lookup("teams"):
        yield Quarantine(f"team {team_id} does not exist")
        return
    first = ctx.lookup("first_membership")[(team_id, person_id)]
    if first["_id"] != doc["_id"]:
        yield Merge(member_id(team_id, person_id), "duplicate membership")
        return
    if person_id not in ctx.lookup("people"):
        person_id = ghost_id()
        yield Write({"_id": person_id, "email": "ghost@invalid", "name": "Ghost",
                     "role": "MEMBER", "joinedAt": dt.datetime(2000, 1, 1), "nicknames": []},
                    collection="Person")
    yield Write({"_id": member_id(team_id, doc["person"]), "teamId": team_id,
                 "personId": person_id, "active": first["active"], "since": first["since"]})


def _earliest(a, b):
    return {"_id": a["_id"], "active": a["active"] or b["active"],
            "since": min(a["since"], b["since"])}


def post(doc, ctx):
    comments = sorted(ctx.children("comments"), key=lambda c: (_date(c["at"]), str(c["_id"])))
    out = {"_id": doc["_id"], "teamId": doc["team"],
           "authorId": member_id(doc["team"], doc["author"]), "body": doc["body"],
           "comments": [{"text": c["text"], "createdAt": _date(c["at"])} for c in comments]}
    if "meta" in doc:
        out["meta"] = doc["meta"]
    yield Write(out)


def comment(doc, ctx):
    if doc["post"] not in ctx.lookup("posts"):
        yield Quarantine(f"post {doc['post']} does not exist")
    else:
        yield Merge(doc["post"], "embedded into Post.comments")


CHAIN = [
    Step("0001-people", None, "people become Person", rules=(
        CollectionRule("people", "Person", person,
                       mapped=("email", "name", "role", "joined", "nicknames", "score"),
                       dropped={"legacy": "unused since 2019", "pin": "never migrated"},
                       redact=("pin",)),
    )),
    Step("0002-teams", "0001-people", "teams become Squad", rules=(
        CollectionRule("teams", "Squad", team, mapped=("name", "size", "archived")),
        DropCollection("cache", "rebuilt by the application"),
    )),
    Step("0003-members", "0002-teams", "memberships become Member, duplicates merged", rules=(
        CollectionRule("memberships", "Member", membership,
                       mapped=("team", "person", "active", "since"),
                       also_writes=("Person",),
                       lookups=(Lookup("teams", "teams", "_id"),
                                Lookup("people", "people", "_id",
                                       where={"email": {"$exists": True}}),
                                Lookup("first_membership", "memberships", ("team", "person"),
                                       value=lambda d: {"_id": d["_id"], "active": d["active"],
                                                        "since": d["since"]},
                                       combine=_earliest))),
    ), references=(Reference("Member", "teamId", "Squad"),
                   Reference("Member", "personId", "Person"))),
    Step("0004-posts", "0003-members", "posts embed their comments", rules=(
        CollectionRule("posts", "Post", post, mapped=("team", "author", "body", "meta"),
                       children=(Children("comments", "comments", "post"),)),
        CollectionRule("comments", "Post", comment, mapped=("post", "text", "at"),
                       lookups=(Lookup("posts", "posts", "_id"),)),
    ), references=(Reference("Post", "authorId", "Member", target_scope="teamId",
                             scope="teamId"),)),
]


def _people(rnd, person_ids: list, base: dt.datetime) -> list:
    """People with mixed date types, optional fields, and one without the email the target requires."""
    people_docs = []
    for n, pid in enumerate(person_ids):
        doc = {"_id": pid, "name": f"person {n}", "email": f"p{n}@example.org",
               "role": rnd.choice(["boss", "member"]), "legacy": n, "pin": f"secret-pin-{n}",
               "joined": (base + dt.timedelta(days=n)).isoformat() if n % 3 else
               base + dt.timedelta(days=n)}
        if n % 4 == 0:
            doc["nicknames"] = [f"nick{n}"]
        if n % 5 == 0:
            doc["score"] = n
        if n == 3:
            del doc["email"]  # quarantined: the target requires it
        people_docs.append(doc)
    return people_docs


def _memberships(oid, person_ids: list, live_teams: list, base: dt.datetime) -> tuple[list, list]:
    """Memberships with duplicates to merge, deleted people (one shared Ghost) and a missing team."""
    memberships, members = [], []
    for n, pid in enumerate(person_ids):
        if n == 3:
            continue  # the quarantined person has no membership
        team_id = live_teams[n % len(live_teams)]
        since = base + dt.timedelta(hours=n)
        memberships.append({"_id": oid(), "team": team_id, "person": pid,
                            "active": n % 2 == 0, "since": since})
        members.append((team_id, pid))
        if n % 7 == 0:  # a duplicate, later and active: merged into the first
            memberships.append({"_id": oid(), "team": team_id, "person": pid, "active": True,
                                "since": since + dt.timedelta(days=1)})
    for ghost_team in live_teams[:2]:  # deleted people in two teams: one shared Ghost
        gone = oid()
        memberships.append({"_id": oid(), "team": ghost_team, "person": gone, "active": False,
                            "since": base})
        members.append((ghost_team, gone))
    memberships.append({"_id": oid(), "team": oid(), "person": person_ids[0], "active": True,
                        "since": base})  # quarantined: the team does not exist
    return memberships, members


def _posts_and_comments(rnd, oid, members: list, count: int, base: dt.datetime) -> tuple[list, list]:
    """Posts by members, comments referencing them (one as a hex string) and one orphan comment."""
    posts, comments = [], []
    for n in range(count):
        team_id, author = members[rnd.randrange(len(members))]
        post_id = oid()
        post_doc = {"_id": post_id, "team": team_id, "author": author, "body": f"post {n}"}
        if n % 6 == 0:
            post_doc["meta"] = {"n": n, "tags": ["a", "b"]}
        posts.append(post_doc)
        for c in range(rnd.randrange(3)):
            ref = str(post_id) if c == 1 else post_id  # a reference stored as a hex string
            comments.append({"_id": oid(), "post": ref, "text": f"c{n}.{c}",
                             "at": (base + dt.timedelta(minutes=n * 10 + c)).isoformat()})
    comments.append({"_id": oid(), "post": oid(), "text": "orphan", "at": base.isoformat()})
    return posts, comments


def make_source(db, people: int = 30, seed: int = 7) -> None:
    """Fills `db` with a legacy dataset for the toy chain, defects included."""
    import random

    from bson import ObjectId
    rnd = random.Random(seed)

    def oid():
        return ObjectId(bytes(rnd.getrandbits(8) for _ in range(12)))

    base = dt.datetime(2024, 1, 1)
    person_ids = [oid() for _ in range(people)]
    db.people.insert_many(_people(rnd, person_ids, base))
    team_ids = [oid() for _ in range(max(2, people // 6))]
    db.teams.insert_many([{"_id": t, "name": f"team {n}", "size": n, "archived": n == 1}
                          for n, t in enumerate(team_ids)])
    db.cache.insert_many([{"_id": n, "blob": "x" * n} for n in range(5)])
    live_teams = [t for n, t in enumerate(team_ids) if n != 1]
    memberships, members = _memberships(oid, person_ids, live_teams, base)
    db.memberships.insert_many(memberships)
    posts, comments = _posts_and_comments(rnd, oid, members, people * 2, base)
    db.posts.insert_many(posts)
    db.comments.insert_many(comments)
