"""What the database holds: per database, collections with document counts and indexes.

Three ways in, tried in this order, the one used recorded in the snapshot:
1. `--mongo-uri URI` given: pymongo from where the audit runs;
2. `docker exec <database container> mongosh` printing the inventory as JSON (production's
   mongo image ships mongosh);
3. the database container's own address on its network, with pymongo (only when the engine is
   local: a bridge network's addresses are reachable from its host, never published); this is
   how an image without mongosh (the rehearsal's FerretDB) is read.
"""
from __future__ import annotations

from typing import Any

from bson import json_util
from pymongo import MongoClient

from commands.services import docker_exec, mongosh_eval
from migration.engine.deadlines import mongo_client
from takeover.docker_host import DockerError, Engine

SYSTEM_DATABASES = ("admin", "local", "config")
# mongosh: the same inventory as `inventory_with_client`, as one line of relaxed extended JSON.
INVENTORY_SCRIPT = (
    'const out = {}; db.getMongo().getDBNames().filter(d => !["admin", "local", "config"].includes(d))'
    '.forEach(d => { const x = db.getSiblingDB(d); out[d] = {};'
    ' x.getCollectionNames().filter(c => !c.startsWith("system.")).forEach(c => {'
    ' out[d][c] = {count: x.getCollection(c).countDocuments({}),'
    ' indexes: x.getCollection(c).getIndexes()}; }); });'
    ' print(EJSON.stringify(out, {relaxed: true}));')


class DatabaseAuditError(RuntimeError):
    pass


def inventory_command(container: str, *, docker_host: str | None = None) -> list[str]:
    return docker_exec(container, mongosh_eval(INVENTORY_SCRIPT), docker_host=docker_host)


def _index(raw: dict) -> dict:
    """An index description that is plain JSON: key as [field, direction] pairs."""
    out = {k: v for k, v in raw.items() if k not in ("key", "v", "ns")}
    out["key"] = [[field, direction] for field, direction in dict(raw["key"]).items()]
    return json_util._json_convert(out, json_util.RELAXED_JSON_OPTIONS)


def _shape(raw: dict[str, dict[str, dict]]) -> dict[str, dict]:
    """{db: {collections: {name: {count, indexes}}, documents}} sorted, for the snapshot."""
    databases = {}
    for name in sorted(raw):
        collections = {c: {"count": int(info["count"]),
                           "indexes": sorted((_index(i) for i in info["indexes"]), key=lambda i: i["name"])}
                       for c, info in sorted(raw[name].items())}
        databases[name] = {"collections": collections,
                           "documents": sum(c["count"] for c in collections.values())}
    return databases


def inventory_with_client(client: MongoClient) -> dict[str, dict]:
    raw: dict[str, dict] = {}
    for name in client.list_database_names():
        if name in SYSTEM_DATABASES:
            continue
        db = client.get_database(name)
        raw[name] = {c: {"count": db[c].count_documents({}), "indexes": list(db[c].list_indexes())}
                     for c in db.list_collection_names() if not c.startswith("system.")}
    return _shape(raw)


def inventory_from_uri(uri: str, *, timeout_seconds: float = 10.0) -> dict[str, dict]:
    client = mongo_client(uri, timeout_seconds * 6, connect_seconds=timeout_seconds)
    try:
        return inventory_with_client(client)
    finally:
        client.close()


def inventory_from_mongosh_output(text: str) -> dict[str, dict]:
    lines = [line for line in text.splitlines() if line.strip().startswith("{")]
    if not lines:
        raise DatabaseAuditError(f"mongosh printed no inventory: {text.strip()[:200]!r}")
    return _shape(json_util.loads(lines[-1]))


def container_addresses(record: dict) -> list[str]:
    networks = (record.get("NetworkSettings") or {}).get("Networks") or {}
    return [n["IPAddress"] for _, n in sorted(networks.items()) if (n or {}).get("IPAddress")]


def audit_database(engine: Engine, *, uri: str | None, container: dict | None,
                   port: int = 27017, timeout_seconds: float = 10.0) -> dict[str, Any]:
    """{method, databases} or {method: None, error, attempts}; never raises for a database that
    cannot be read: the snapshot says why, and the audit's summary lists it as missing."""
    attempts: list[str] = []
    if uri:
        try:
            return {"method": "uri", "databases": inventory_from_uri(uri, timeout_seconds=timeout_seconds)}
        except Exception as error:  # noqa: BLE001 - any failure is reported, not raised
            return {"method": None, "error": f"pymongo against --mongo-uri failed: {_short(error)}",
                    "attempts": ["uri"]}
    if container is None:
        return {"method": None, "error": "no database container found and no --mongo-uri given",
                "attempts": []}
    name = container["Name"].lstrip("/")
    if not (container.get("State") or {}).get("Running"):
        return {"method": None, "error": f"database container {name} is not running", "attempts": []}
    try:
        done = engine.run(inventory_command(name, docker_host=engine.docker_host),
                          timeout=max(30.0, timeout_seconds * 6))
        return {"method": f"docker exec {name} mongosh",
                "databases": inventory_from_mongosh_output(done.stdout)}
    except (DockerError, DatabaseAuditError) as error:
        attempts.append(f"docker exec {name} mongosh: {_short(error)}")
    if engine.docker_host:
        attempts.append("container address: skipped, the engine is remote (give --mongo-uri)")
    else:
        for address in container_addresses(container):
            try:
                uri_here = f"mongodb://{address}:{port}/?directConnection=true"
                return {"method": f"pymongo to {name} at {address}:{port}", "attempts": attempts,
                        "databases": inventory_from_uri(uri_here, timeout_seconds=timeout_seconds)}
            except Exception as error:  # noqa: BLE001
                attempts.append(f"pymongo to {address}:{port}: {_short(error)}")
    return {"method": None, "error": "the database could not be read", "attempts": attempts}


def _short(error: Exception) -> str:
    return str(error).splitlines()[0][:300] if str(error) else type(error).__name__
