"""The audit's human summary (SUMMARY.txt, also printed): what runs, on which image, where the
data lives, what the database holds, what is missing, and the adopt section to put in the
stack file. Everything in it comes from snapshot.json, already masked."""
from __future__ import annotations

import yaml


def _table(rows: list[list[str]], indent: str = "  ") -> list[str]:
    if not rows:
        return []
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    return [indent + "  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]


def _short_id(image_id: str | None) -> str:
    return (image_id or "-").replace("sha256:", "")[:12]


def render_summary(snapshot: dict, database: dict) -> str:
    s = snapshot
    lines = [f"Audit of compose project {s['composeProject']!r} for stack {s['stack']!r}, "
             f"{s['taken']}, engine {s['engineVersion']} ({s['dockerHost']}), {s['seconds']} s",
             "", f"Containers: {len(s['containers'])} (found by {s['foundBy']})"]
    rows = [["SERVICE", "CONTAINER", "STATE", "HEALTH", "IMAGE", "IMAGE ID", "DIGEST"]]
    for c in s["containers"]:
        digest = c["repoDigests"][0].split("@", 1)[1][:19] if c["repoDigests"] else (
            "-" if c["imagePresent"] else "IMAGE GONE")
        rows.append([c["service"] or "?", c["name"], c["state"] or "?", c["health"] or "-",
                     c["image"] or "?", _short_id(c["imageId"]), digest])
    lines += _table(rows) if s["containers"] else ["  none"]
    lines += ["", f"Volumes: {len(s['volumes'])}"]
    rows = [["PURPOSE", "VOLUME", "USED BY", "MOUNTPOINT"]]
    for v in s["volumes"]:
        rows.append([v["purpose"] or "-", v["name"], ", ".join(v["usedBy"]) or "(unused)",
                     v["mountpoint"] or "?"])
    lines += _table(rows) if s["volumes"] else ["  none"]
    lines += ["", f"Networks: {len(s['networks'])}"]
    lines += [f"  {n['name']} ({n['driver']}, id {(n['id'] or '')[:12]}): {len(n['containers'])} container(s)"
              for n in s["networks"]] or ["  none"]
    lines += ["", "Compose files (masked copies in compose/):"]
    for f in s["composeFiles"]:
        written = f.get("written") or f"NOT COPIED: {f.get('error')}"
        lines.append(f"  {f['kind']:8} {f['path']} -> {written}")
    if not s["composeFiles"]:
        lines.append("  none named by the containers' labels")
    lines += ["", _database_title(database)]
    for name, db in (database.get("databases") or {}).items():
        lines.append(f"  database {name}: {len(db['collections'])} collections, "
                     f"{db['documents']:,} documents")
        rows = [["COLLECTION", "DOCUMENTS", "INDEXES"]]
        for cname, c in db["collections"].items():
            rows.append([cname, f"{c['count']:,}", ", ".join(i["name"] for i in c["indexes"])])
        lines += _table(rows, "    ")
    lines.append("")
    if s["missing"]:
        lines.append(f"MISSING ({len(s['missing'])}):")
        lines += [f"  - {m}" for m in s["missing"]]
    else:
        lines.append("Nothing expected is missing.")
    lines += ["", f"Suggested adopt section for {s['stackFile']}:",
              *("  " + line for line in yaml.safe_dump({"config": {"meeshy:adopt": s["adoptSuggestion"]}},
                                                       sort_keys=False).splitlines())]
    lines += ["", "Stack file check:"]
    lines += ([f"  - {p}" for p in s["adoptCheck"]]
              or ["  its meeshy:adopt section names exactly what production uses"])
    return "\n".join(lines) + "\n"


def _database_title(database: dict) -> str:
    if database.get("method"):
        return f"Database (read by {database['method']}):"
    attempts = "; ".join(database.get("attempts") or [])
    return f"Database: NOT READ, {database.get('error')}" + (f" ({attempts})" if attempts else "")
