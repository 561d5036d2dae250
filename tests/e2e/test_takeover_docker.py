"""The takeover on the real Docker engine: a compose-like production (real containers from the
local images, compose labels, a FerretDB data volume holding legacy Meeshy data) is audited,
taken over (containers gone, volumes and data intact) and restored exactly as recorded.

Every name carries a per-run id and everything is removed at the end, bounded. Only 127.0.0.1
ports are published. Skips only when no Docker engine answers; missing local images are built
with tools/build-images.sh (it skips current ones).
"""
from __future__ import annotations

import json
import secrets
import stat
import subprocess
import urllib.request
from pathlib import Path

import pytest

from ops.automation.env import REPO_ROOT
from takeover.audit.capture import audit
from takeover.audit.capture import main as audit_main
from takeover.compose.handover import TakeoverError, restore, takeover
from takeover.docker_host import DockerError, Engine
from tests.support.compose_production import address as _address
from tests.support.compose_production import compose_production
from tests.support.compose_production import digests as _digests
from tests.support.compose_production import docker as _docker
from tests.support.compose_production import wait_healthy as _wait_healthy

pytestmark = pytest.mark.docker
SCALE = 0.05          # about 6,300 legacy documents: every collection of section 2, quickly


@pytest.fixture(scope="module")
def engine():
    eng = Engine()
    try:
        eng.server_version()
    except DockerError as error:
        pytest.skip(f"no Docker engine answers: {error}")
    return eng


@pytest.fixture(scope="module")
def images(engine):
    listing = subprocess.run([str(REPO_ROOT / "tools/build-images.sh"), "--list"], capture_output=True,
                             text=True, timeout=60, check=True).stdout
    refs = dict(line.split() for line in listing.splitlines() if line.strip())
    wanted = {"database": refs["mongo"], "redis": refs["redis"],
              "translator": refs["translator@legacy"], "gateway": refs["gateway@legacy"]}
    if any(not engine.inspect_images([r]) for r in wanted.values()):
        built = subprocess.run([str(REPO_ROOT / "tools/build-images.sh")], capture_output=True,
                               text=True, timeout=3600)
        assert built.returncode == 0, f"tools/build-images.sh failed: {built.stderr[-2000:]}"
    return wanted


@pytest.fixture
def production(engine, images, tmp_path):
    """A compose-like production named meeshytest-<id>, torn down whatever happens."""
    with compose_production(images, tmp_path, scale=SCALE) as env:
        yield env


def _files_text(directory: Path) -> str:
    return "\n".join(p.read_text() for p in sorted(directory.rglob("*")) if p.is_file())


def _inspect(name: str) -> dict:
    return json.loads(_docker("container", "inspect", name))[0]


def _gateway_health(port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as answer:
            return answer.status
    except OSError as error:
        return getattr(error, "code", 0) or 0


def _audit_finds_everything_and_masks_secrets(p, before, tmp_path) -> tuple[dict, Path]:
    """1. Audit: real names, image ids, counts and indexes, every secret masked."""
    names = p["names"]
    out = tmp_path / "audit"
    stack_file = tmp_path / "Pulumi.production.yaml"
    stack_file.write_text("config:\n  meeshy:adopt:\n    volumes:\n"
                          f"      database-data: {p['volumes']['database_data']}\n"
                          "      redis-data: meeshy_redis_data\n")
    snap = audit("production", out, compose_project=p["project"], stack_file=stack_file, log=lambda _: None)
    found = {c["name"]: c for c in snap["containers"]}
    assert set(found) == set(names.values())
    for name, record in before.items():
        assert found[name]["imageId"] == record["Image"]
    assert snap["adoptSuggestion"]["volumes"] == {
        "database-data": p["volumes"]["database_data"], "database-config": p["volumes"]["database_config"],
        "redis-data": p["volumes"]["redis_data"]}
    assert snap["adoptSuggestion"]["networks"]["main"]["name"] == p["net"]
    assert any("meeshy_redis_data" in line and "does not exist" in line for line in snap["adoptCheck"])
    assert any(line.startswith("service frontend") for line in snap["missing"])
    assert not any(line.startswith(("service database", "service gateway", "volume database-data"))
                   for line in snap["missing"])
    database = json.loads((out / "database.json").read_text())
    collections = database["databases"]["meeshy"]["collections"]
    assert {c: v["count"] for c, v in collections.items()} == p["counts"]
    assert "conversationId_1_createdAt_-1" in {i["name"] for i in collections["Message"]["indexes"]}
    text = _files_text(out)
    for value in p["secrets"].values():
        assert value not in text
    assert "JWT_SECRET=<masked>" in text and "ADMIN_PASSWORD=<masked>" in text
    assert (out / "SUMMARY.txt").read_text().count(p["volumes"]["database_data"]) >= 1
    assert snap["database"]["method"].startswith(f"pymongo to {names['database']}")   # no mongosh in FerretDB
    # The CLI, reading the database at a URI instead: exit 3, since front end and Traefik are absent.
    uri = f"mongodb://{_address(names['database'])}:27017/"
    assert audit_main(["production", "--out", str(tmp_path / "audit-uri"), "--compose-project", p["project"],
                       "--mongo-uri", uri, "--stack-file", str(stack_file)]) == 3
    by_uri = json.loads((tmp_path / "audit-uri" / "database.json").read_text())
    assert by_uri["method"] == "uri" and by_uri["databases"] == database["databases"]
    return snap, out


def _takeover_keeps_volumes_and_data(p, engine, out, before, digests, tmp_path) -> dict:
    """2. Takeover: containers gone, volumes and data intact, real values only in the 0600 record."""
    names = p["names"]
    private_dir = tmp_path / "private"
    report = takeover(out, project=p["project"], private_dir=private_dir, stop_seconds=5, log=lambda _: None)
    assert report["result"] == "taken over" and sorted(report["removed"]) == sorted(names.values())
    assert _docker("ps", "-aq", "--filter", f"label=com.docker.compose.project={p['project']}") == ""
    assert sorted(engine.inspect_volumes(list(p["volumes"].values()))) == sorted(p["volumes"].values())
    private = Path(report["privateRecord"])
    assert stat.S_IMODE(private.stat().st_mode) == 0o600 and stat.S_IMODE(private_dir.stat().st_mode) == 0o700
    assert p["secrets"]["JWT_SECRET"] in private.read_text()
    for value in p["secrets"].values():
        assert value not in _files_text(out)
    # The new production would start on the adopted volumes: a fresh database container on them
    # sees exactly the same data.
    verify = f"{p['project']}-verify"
    _docker("run", "-d", "--name", verify, "--network", p["net"],
            "--mount", f"type=volume,source={p['volumes']['database_data']},target=/data/db",
            "--mount", f"type=volume,source={p['volumes']['database_config']},target=/data/configdb",
            before[names["database"]]["Image"])
    _wait_healthy([verify])
    assert _digests(verify) == digests
    # While it runs on the volumes, a restore refuses before creating anything.
    with pytest.raises(TakeoverError, match=rf"in use by running containers.*by {verify}"):
        restore(out, deadline_seconds=30, log=lambda _: None)
    assert _docker("ps", "-aq", "--filter", f"label=com.docker.compose.project={p['project']}") == ""
    _docker("rm", "-f", verify)
    return report


def _restore_brings_back_the_same_deployment(p, out, before, digests) -> dict:
    """3. Restore: same images, volumes, env, labels, ports; running, healthy, same data.
    A first attempt out of time leaves containers behind; the next attempt replaces them."""
    names = p["names"]
    with pytest.raises(TakeoverError, match="before the deadline"):
        restore(out, deadline_seconds=1, log=lambda _: None)
    back = restore(out, deadline_seconds=180, log=lambda _: None)
    assert back["replacedFromEarlierAttempt"]
    assert back["result"] == "restored" and back["differences"] == []
    for name, old in before.items():
        new = _inspect(name)
        assert new["Id"] != old["Id"] and new["Image"] == old["Image"]
        assert new["Config"]["Image"] == old["Config"]["Image"]
        assert sorted(new["Config"]["Env"]) == sorted(old["Config"]["Env"])
        assert new["Config"]["Labels"] == old["Config"]["Labels"]
        assert sorted((m.get("Name"), m["Destination"], m["RW"]) for m in new["Mounts"]) == \
            sorted((m.get("Name"), m["Destination"], m["RW"]) for m in old["Mounts"])
        assert new["HostConfig"]["PortBindings"] == old["HostConfig"]["PortBindings"]
        assert new["HostConfig"]["RestartPolicy"] == old["HostConfig"]["RestartPolicy"]
        assert sorted(new["NetworkSettings"]["Networks"]) == sorted(old["NetworkSettings"]["Networks"])
        assert new["State"]["Running"] == old["State"]["Running"]
    assert _inspect(names["mongo-init"])["State"]["Status"] == "created"
    assert _inspect(names["gateway"])["State"]["Health"]["Status"] == "healthy"
    assert _gateway_health(p["gateway_port"]) == 200
    assert _digests(names["database"]) == digests
    return back


def test_audit_takeover_and_restore_of_a_compose_production(production, engine, tmp_path):
    p, names = production, production["names"]
    before = {n: _inspect(n) for n in names.values()}
    digests = _digests(names["database"])
    assert {c: d["count"] for c, d in digests.items()} == p["counts"]

    snap, out = _audit_finds_everything_and_masks_secrets(p, before, tmp_path)
    report = _takeover_keeps_volumes_and_data(p, engine, out, before, digests, tmp_path)
    back = _restore_brings_back_the_same_deployment(p, out, before, digests)
    print(f"\ntakeover of {len(names)} containers: audit {snap['seconds']} s, "
          f"takeover {report['seconds']} s, "
          f"restore {back['seconds']} s; {sum(p['counts'].values())} documents in "
          f"{len(p['counts'])} collections hash-equal after each step")


def test_takeover_stops_nothing_when_a_container_cannot_be_restored(engine, images, tmp_path):
    project = f"meeshytest-{secrets.token_hex(3)}"
    a, b, c = f"{project}-a", f"{project}-b", f"{project}-c"
    out = tmp_path / "audit"
    label = ["--label", f"com.docker.compose.project={project}"]
    try:
        _docker("run", "-d", "--name", a, *label, images["redis"])
        _docker("run", "-d", "--name", b, *label, "--volumes-from", a, images["redis"])
        audit("production", out, compose_project=project, log=lambda _: None)
        with pytest.raises(TakeoverError, match=r"nothing was stopped: .*VolumesFrom"):
            takeover(out, project=project, private_dir=tmp_path / "private", log=lambda _: None)
        assert _docker("inspect", "-f", "{{.State.Running}}", a, b).split() == ["true", "true"]
        assert not (tmp_path / "private").exists() and list(out.glob("takeover-*")) == []
        # A container that appeared since the audit: the takeover stops only what was audited.
        _docker("run", "-d", "--name", c, *label, images["redis"])
        with pytest.raises(TakeoverError, match=rf"host changed since the audit \(containers new {c}\)"):
            takeover(out, project=project, private_dir=tmp_path / "private", log=lambda _: None)
        assert _docker("inspect", "-f", "{{.State.Running}}", c) == "true"
    finally:
        for name in (c, b, a):
            _docker("rm", "-f", "-v", name, check=False, timeout=60)
