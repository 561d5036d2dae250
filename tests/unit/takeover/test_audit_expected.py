"""What the audit expects on a compose production and what it calls missing; the takeover's
private record (modes, tampering) and the comparison of a restored container."""
from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import pytest

from takeover.audit import expected as e
from takeover.compose.record import RecordError, differences, read_private, write_private

RECORD = json.loads((Path(__file__).with_name("test_audit_gateway_inspect.json")).read_text())["container"]


def container(name: str, service: str | None, mounts: list[tuple[str, str]],
              network="meeshy-network") -> dict:
    labels = {"com.docker.compose.service": service} if service else {}
    return {"Name": f"/{name}", "Config": {"Labels": labels},
            "Mounts": [{"Type": "volume", "Name": v, "Destination": d} for v, d in mounts],
            "NetworkSettings": {"Networks": {network: {"NetworkID": "abc123"}}}}


CONTAINERS = {c["Name"][1:]: c for c in [
    container("meeshy-database", "database", [("meeshy_database_data", "/data/db"),
                                              ("meeshy_database_config", "/data/configdb")]),
    container("meeshy-redis", None, [("meeshy_redis_data", "/data")]),       # no compose label
    container("meeshy-gateway", "gateway", []),                               # uploads not mounted
]}


def test_volumes_are_found_by_role_whatever_their_name():
    purposes = e.volume_purposes(CONTAINERS, "meeshy-")
    assert {p: v["volume"] for p, v in purposes.items()} == {
        "database-data": "meeshy_database_data", "database-config": "meeshy_database_config",
        "redis-data": "meeshy_redis_data"}
    assert e.adopt_suggestion(purposes, e.main_network(CONTAINERS, "meeshy-")) == {
        "volumes": {"database-data": "meeshy_database_data", "database-config": "meeshy_database_config",
                    "redis-data": "meeshy_redis_data"},
        "networks": {"main": {"name": "meeshy-network", "id": "abc123"}}}


def test_missing_names_each_expected_thing():
    services = {"database": ["meeshy-database"], "redis": ["meeshy-redis"], "gateway": ["meeshy-gateway"]}
    purposes = e.volume_purposes(CONTAINERS, "meeshy-")
    found_volumes = {"meeshy_database_data": {}, "meeshy_redis_data": {}}   # config volume vanished
    collections = {c: {} for c in e.EXPECTED_COLLECTIONS if c != "Notification"}
    database = {"method": "uri", "databases": {"meeshy": {"collections": collections}}}
    lines = e.missing(services, purposes, database, found_volumes)
    assert "service frontend: no container (expected a compose service 'frontend')" in lines
    assert not any(line.startswith(("service database", "service mongo-init", "service nosqlclient"))
                   for line in lines)
    assert ("volume database-config: meeshy_database_config is mounted but `docker volume inspect` "
            "does not find it") in lines
    assert "volume gateway-uploads: container of gateway has no volume at /app/uploads" in lines
    assert "volume models: unknown, since service translator has no container" in lines
    assert "database meeshy: collections absent: Notification" in lines
    assert e.missing(services, purposes, {"method": None, "error": "no route"}, found_volumes)[-1] == \
        "database: not read (no route)"


def test_adopt_section_checked_against_the_engine(tmp_path):
    stack = tmp_path / "Pulumi.production.yaml"
    stack.write_text("config:\n  meeshy:adopt:\n    volumes:\n      database-data: meeshy-database-data\n"
                     "    networks:\n      main: meeshy-network\n")
    suggestion = {"volumes": {"database-data": "meeshy_database_data", "redis-data": "meeshy_redis_data"}}
    found = {"meeshy_database_data": {}, "meeshy_redis_data": {}}
    problems = e.adopt_problems(e.configured_adopt(stack), found, {"meeshy-network": {}}, suggestion)
    assert problems == [
        "meeshy:adopt.volumes.database-data: volume 'meeshy-database-data' does not exist on this engine",
        "meeshy:adopt.volumes.redis-data: not adopted, though production keeps data in 'meeshy_redis_data'"]
    assert e.adopt_problems(None, {}, {}, suggestion)[0].startswith("the stack file has no meeshy:adopt")


def test_service_of_never_takes_a_guess():
    assert e.service_of(container("meeshy-frontend", None, []), "meeshy-") == "frontend"
    assert e.service_of(container("other", None, []), "meeshy-") is None


def test_private_record_is_0600_and_refused_when_readable_or_replaced(tmp_path):
    path = tmp_path / "private" / "takeover-1.json"
    digest = write_private(path, {"env": ["JWT_SECRET=x"]})
    assert oct(path.stat().st_mode & 0o777) == "0o600" and oct(path.parent.stat().st_mode & 0o777) == "0o700"
    assert read_private(path, digest) == {"env": ["JWT_SECRET=x"]}
    with pytest.raises(FileExistsError):
        write_private(path, {})                       # never overwritten
    with pytest.raises(RecordError, match="does not match the sha256"):
        read_private(path, "0" * 64)
    os.chmod(path, 0o644)
    with pytest.raises(RecordError, match="must be 0600"):
        read_private(path, digest)
    with pytest.raises(RecordError, match="is gone"):
        read_private(tmp_path / "nope.json")


def test_differences_name_fields_never_values():
    restored = copy.deepcopy(RECORD)
    restored["Id"], restored["Config"]["Hostname"] = "f" * 64, "f" * 12   # as the engine does
    assert differences(RECORD, restored) == []
    restored["Config"]["Env"] = [e for e in restored["Config"]["Env"]
                                 if not e.startswith("ADMIN_PASSWORD=")] + ["ADMIN_PASSWORD=other"]
    restored["Config"]["Labels"]["traefik.http.middlewares.gateway-auth.basicauth.users"] = "x"
    restored["HostConfig"]["RestartPolicy"] = {"Name": "always", "MaximumRetryCount": 0}
    restored["Config"]["Healthcheck"] = {**RECORD["Config"]["Healthcheck"],
                                         "Test": ["CMD", "curl", "-f", "http://localhost:3000/health"]}
    found = differences(RECORD, restored)
    assert found == [
        "meeshy-gateway: environment differs for ADMIN_PASSWORD",
        "meeshy-gateway: labels differ for traefik.http.middlewares.gateway-auth.basicauth.users",
        'meeshy-gateway: restart policy differs: recorded ["unless-stopped", 0], restored ["always", 0]']
    assert "Adm1n" not in " ".join(found) and "other" not in " ".join(found)


def test_latest_record_skips_restore_reports(tmp_path):
    from takeover.compose.record import latest_record
    with pytest.raises(RecordError, match="no takeover"):
        latest_record(tmp_path)
    for name in ("takeover-20260125T010000Z.json", "takeover-20260125T020000Z.json",
                 "takeover-20260125T020000Z-restore.json", "snapshot.json"):
        (tmp_path / name).write_text("{}")
    assert latest_record(tmp_path).name == "takeover-20260125T020000Z.json"
