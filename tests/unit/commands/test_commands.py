"""The pure command builders, compared list for list (commands/services.py)."""
import json
import shlex

import pytest

from commands import services as c


def test_docker_exec_local_and_remote():
    assert c.docker_exec("meeshy-staging-database", ["mongosh", "--quiet"]) == [
        "docker", "exec", "meeshy-staging-database", "mongosh", "--quiet"]
    assert c.docker_exec("db", ["mongorestore"], interactive=True, docker_host="ssh://ops@host") == [
        "docker", "--host", "ssh://ops@host", "exec", "--interactive", "db", "mongorestore"]


def test_mongosh_eval_and_ping():
    assert c.mongo_ping() == ["mongosh", "--quiet", "--eval", "db.runCommand({ping: 1}).ok"]
    assert c.mongosh_eval("1", uri="mongodb://127.0.0.1:27018/x") == [
        "mongosh", "--quiet", "mongodb://127.0.0.1:27018/x", "--eval", "1"]


def test_replica_set_init_names_the_member_and_is_idempotent():
    argv = c.replica_set_init("rs0", "meeshy-staging-database:27017")
    assert argv[:3] == ["mongosh", "--quiet", "--eval"] and len(argv) == 4
    script = argv[3]
    assert 'const want = "meeshy-staging-database:27017"' in script
    assert 'rs.initiate({_id: "rs0", members: [{_id: 0, host: want}]})' in script
    # Already initialised with this member: only prints; another single member: forced rename.
    assert "already initialised" in script and "rs.reconfig(cfg, {force: true})" in script
    assert "NotYetInitialized" in script and "isWritablePrimary" in script
    assert "'" not in script  # survives single-quoting by the shell
    assert shlex.split(shlex.join(argv)) == argv


def test_replica_set_init_escapes_names():
    script = c.replica_set_init_script('r"s', "h:1")
    assert json.dumps('r"s') in script


def test_mongodump_variants():
    assert c.mongodump_archive(db="meeshy") == ["mongodump", "--db=meeshy", "--archive", "--gzip"]
    assert c.mongodump_archive(uri="mongodb://h:27017/meeshy", archive_path="/backups/a.gz") == [
        "mongodump", "--uri=mongodb://h:27017/meeshy", "--archive=/backups/a.gz", "--gzip"]


def test_mongorestore_variants():
    assert c.mongorestore_archive() == ["mongorestore", "--archive", "--gzip", "--drop"]
    assert c.mongorestore_archive(uri="mongodb://h:1", archive_path="/b/a.gz", ns_from="meeshy.*",
                                  ns_to="meeshy_v2.*") == [
        "mongorestore", "--uri=mongodb://h:1", "--archive=/b/a.gz", "--gzip", "--drop",
        "--nsFrom=meeshy.*", "--nsTo=meeshy_v2.*"]
    assert c.mongorestore_archive(drop=False) == ["mongorestore", "--archive", "--gzip"]
    with pytest.raises(ValueError, match="both or neither"):
        c.mongorestore_archive(ns_from="meeshy.*")


def test_redis_ping():
    assert c.redis_ping() == ["redis-cli", "ping"]


def test_service_probes_hit_the_documented_endpoints():
    assert c.service_probe("gateway") == [
        "curl", "--fail", "--silent", "--show-error", "--max-time", "5", "--output", "/dev/null",
        "http://localhost:3000/health"]
    assert c.service_probe("translator") == [
        "python3", "-c", "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=5)",
        "http://localhost:8000/live"]
    assert c.service_probe("web") == [
        "wget", "--quiet", "--tries=1", "-T", "5", "-O", "/dev/null", "http://localhost:3100/api/health"]
    assert c.service_probe("static", host="meeshy-staging-static", tool="curl")[-1] == \
        "http://meeshy-staging-static:80/health"


def test_unknown_probe_tool_is_refused():
    with pytest.raises(ValueError, match="curl, wget or python3"):
        c.http_probe("http://x", "nc")


def test_healthcheck_exec_form():
    assert c.healthcheck_test(c.redis_ping()) == ["CMD", "redis-cli", "ping"]
