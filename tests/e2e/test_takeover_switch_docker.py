"""The takeover through the product's own verbs, on real containers and through `pulumi up`: a
compose-like production (tests/support/compose_production.py) is audited; a generated stack of
the real project adopts its data volumes; `pulumi preview` must import them (never create,
replace or delete them); `ops switch --takeover` stops compose and brings the stack up on them
(backup, migration into meeshy_v2, release, health gate); the new production serves the
migrated data through Traefik; `ops rollback --to-compose` brings compose back, its database
hash-equal (steps/digest.py) to before the takeover.

Bounded (small scale, every wait has a deadline), loopback ports only, and everything (both
deployments, the state, the stack file, the takeover's private record) removed at the end.
"""
from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from pymongo import MongoClient

from config import naming
from ops.rehearse import load as rehearse_load
from ops.rehearse.stacks import release_images
from takeover.audit.capture import audit
from takeover.compose.record import default_private_dir
from tests.support.compose_production import client_of, compose_production, digests, docker, wait_healthy
from tests.support.docker_stack import REPO_ROOT, DockerStack, labelled, local_images

pytestmark = [pytest.mark.e2e, pytest.mark.docker]
SCALE = 0.01          # about 1,250 legacy documents, every defect present
MIGRATION = {"sourceDatabase": "meeshy", "targetDatabase": "meeshy_v2", "timeoutSeconds": 600}
DOMAIN = "e2e.localhost"
ADOPTED_DELETIONS = {"delete", "replace", "create-replacement", "delete-replaced", "discard"}


@pytest.fixture
def deployments(docker_engine, tmp_path):
    """(compose production, stack bed); both removed whatever happens."""
    images = local_images()
    compose_images = {"database": images["mongo"], "redis": images["redis"],
                      "translator": images["translator@legacy"], "gateway": images["gateway@legacy"]}
    bed = DockerStack(tmp_path / "stack")
    # The tools image has one tag for every checkout on this engine, and a rebuild from another
    # one may replace it mid-run: it is brought to this checkout's recipe (a no-op when current)
    # and the stack runs its steps in it under a tag of its own.
    built = subprocess.run([str(REPO_ROOT / "tools" / "build-images.sh")], capture_output=True,
                           text=True, timeout=900)
    assert built.returncode == 0, f"tools/build-images.sh failed: {built.stderr[-2000:]}"
    bed.images["tools"] = f"{images['tools'].rsplit(':', 1)[0]}:{bed.name}"
    docker("tag", images["tools"], bed.images["tools"])
    with compose_production(compose_images, tmp_path, scale=SCALE) as production:
        try:
            yield production, bed, images
        finally:
            left = bed.remove()
            shutil.rmtree(default_private_dir(production["project"]), ignore_errors=True)
            docker("rmi", bed.images["tools"], check=False)
            assert not left["container"], f"stack containers left behind: {left['container']}"


def preview_steps(bed: DockerStack) -> dict[str, dict]:
    """`pulumi preview --json` of the stack file: each resource's step by its name."""
    done = bed.pulumi("preview", "--json", "--policy-pack", "policy")
    return {s["urn"].rsplit("::", 1)[-1]: s for s in json.loads(done.stdout)["steps"]}


def stack_containers_healthy(stack: str, seconds: float = 180) -> dict[str, str]:
    deadline = time.monotonic() + seconds
    while True:
        names = labelled("container", stack)
        status = {n: docker("inspect", "-f", "{{if .State.Health}}{{.State.Health.Status}}{{else}}"
                            "{{.State.Status}}{{end}}", n) for n in names}
        if (names and set(status.values()) <= {"healthy"}) or time.monotonic() > deadline:
            return status
        time.sleep(2)


def legacy_message_ids(container: str) -> set[str]:
    with contextlib.closing(client_of(container)) as client:
        return {str(m["_id"]) for m in client["meeshy"].Message.find({}, {"_id": 1})}


def served_legacy_messages(bed: DockerStack, legacy_ids: set[str]) -> tuple[int | None, set[str]]:
    """The legacy messages of one migrated conversation, as the new gateway lists them through
    Traefik's published https port (Host header of the stack's gateway)."""
    with MongoClient(f"mongodb://127.0.0.1:{bed.ports['database']}/?directConnection=true",
                     serverSelectionTimeoutMS=20000) as client:
        message = next(m for m in client["meeshy_v2"].Message.find({}, {"conversationId": 1})
                       if str(m["_id"]) in legacy_ids)
    conversation = message["conversationId"]
    gateway = rehearse_load.LoadGenerator(bed.ports["https"], f"gate.{bed.name}.{DOMAIN}",
                                          [(conversation, conversation)], tag="e2e")
    status, listed = rehearse_load.list_messages(gateway, str(conversation))
    return status, {m.get("id") for m in listed} & legacy_ids


def _adopt_and_audit(bed, production, images, tmp_path) -> tuple[dict, Path]:
    """1. Audit, then the stack file adopts the suggested volumes and the audit is repeated on it."""
    volumes = production["volumes"]
    first = audit(bed.name, tmp_path / "audit-1", compose_project=production["project"], log=lambda _: None)
    adopt = first["adoptSuggestion"]["volumes"]
    assert adopt == {"database-data": volumes["database_data"], "database-config": volumes["database_config"],
                     "redis-data": volumes["redis_data"]}
    bed.init(bed.settings(**{
        "meeshy:images": release_images(images, None),
        "meeshy:database": {**bed.settings()["meeshy:database"], "name": MIGRATION["targetDatabase"]},
        "meeshy:migration": MIGRATION, "meeshy:adopt": {"volumes": adopt}}))
    audit_dir = tmp_path / "audit-2"
    snap = audit(bed.name, audit_dir, compose_project=production["project"], stack_file=bed.stack_file,
                 log=lambda _: None)
    assert snap["adoptCheck"] == []
    # The stack's database starts on existing data: the compose variable that named the database
    # to create on an empty volume is intentionally dropped (the check refuses it otherwise).
    (audit_dir / "intended.txt").write_text("database:MONGO_INITDB_DATABASE\n")
    return adopt, audit_dir


def _preview_imports_and_deletes_nothing(bed, production, adopt, ops_cli, tmp_path) -> dict:
    """2. The preview imports every adopted volume and deletes nothing; compose keeps running."""
    steps = preview_steps(bed)
    stack_names = naming.StackNames(bed.name, DOMAIN)
    for purpose, existing in adopt.items():
        step = steps[stack_names.volume(purpose)]
        assert step["op"] == "import", f"{purpose}: {step['op']}"
        assert step["newState"]["inputs"]["name"] == existing
    assert not {s["op"] for s in steps.values()} & ADOPTED_DELETIONS
    assert all(docker("inspect", "-f", "{{.State.Running}}", n) == "true"
               for n in production["names"].values() if not n.endswith("mongo-init"))

    # The operator's preview (runbook, section 2) says the same before anything is deployed.
    preview_json = tmp_path / "preview.json"
    previewed = ops_cli(bed, "preview", bed.name, "--json", str(preview_json), timeout=300)
    assert previewed.returncode == 0, (previewed.stdout + previewed.stderr)[-3000:]
    shown = json.loads(preview_json.read_text())
    assert shown["changes"].get("import") == len(adopt) and not set(shown["changes"]) & ADOPTED_DELETIONS
    assert "backup-and-migrate" in shown["migration"]["skipped"]
    return steps


def _takeover_switch(bed, production, audit_dir, ops_cli, tmp_path) -> dict:
    """3. The takeover switch through ops: every phase an ordinary `pulumi up` of the project."""
    volumes, stack_names = production["volumes"], naming.StackNames(bed.name, DOMAIN)
    switch_json = tmp_path / "switch.json"
    switched = ops_cli(bed, "switch", bed.name, "--takeover", str(audit_dir), "--compose-project",
                       production["project"], "--yes", "--json", str(switch_json), timeout=600)
    assert switched.returncode == 0, (switched.stdout + switched.stderr)[-4000:]
    print(switched.stdout)   # what the operator reads (docs/runbook.md shows one such run)
    report = json.loads(switch_json.read_text())
    assert [p["name"] for p in report["phases"]] == [
        "takeover", "backup-and-migrate", "release", "maintenance-off"]
    assert docker("ps", "-aq", "--filter", f"label=com.docker.compose.project={production['project']}") == ""
    health = stack_containers_healthy(bed.name)
    assert set(health.values()) == {"healthy"}, health
    mounts = json.loads(docker("inspect", "-f", "{{json .Mounts}}", stack_names.container("database")))
    assert {m["Name"] for m in mounts} == {volumes["database_data"], volumes["database_config"]}
    assert stack_names.volume("database-data") not in labelled("volume", bed.name)
    return report


def _serves_the_migrated_data(bed, legacy_ids) -> dict:
    """4. The new production serves the migrated data: counts in meeshy_v2, and the legacy
    messages of a conversation read back through Traefik and the new gateway."""
    with MongoClient(f"mongodb://127.0.0.1:{bed.ports['database']}/?directConnection=true",
                     serverSelectionTimeoutMS=20000) as client:
        migrated = {c: client["meeshy_v2"][c].count_documents({})
                    for c in client["meeshy_v2"].list_collection_names() if not c.startswith("_")}
    assert migrated.get("Message", 0) > 0 and migrated.get("Participant", 0) > 0
    status, served = served_legacy_messages(bed, legacy_ids)
    assert status == 200 and served, (status, served)
    return migrated


def _back_to_compose(bed, production, audit_dir, ops_cli, tmp_path, image_ids, before) -> dict:
    """5. Back to compose through ops: the stack's containers go, compose comes back as recorded."""
    names, volumes = production["names"], production["volumes"]
    rollback_json = tmp_path / "rollback.json"
    back = ops_cli(bed, "rollback", bed.name, "--to-compose", str(audit_dir), "--yes",
                   "--json", str(rollback_json), timeout=600)
    assert back.returncode == 0, (back.stdout + back.stderr)[-4000:]
    rolled = json.loads(rollback_json.read_text())
    assert rolled["result"] == "restored" and rolled["compose"]["health"]["ok"]
    assert Path(rolled["abandonedWrites"]["keptIn"]).is_file()
    assert labelled("container", bed.name) == []
    running = [n for n in names.values() if not n.endswith("mongo-init")]
    wait_healthy(running, seconds=120)
    assert {n: docker("inspect", "-f", "{{.Image}}", n) for n in names.values()} == image_ids
    assert digests(names["database"]) == before
    # Even a destroy of the stack (protection lifted first) leaves compose's volumes: adopted
    # volumes are retained on delete (the stack's own data volumes too, removed by label here).
    left = bed.remove()
    assert not left["container"] and not set(left["volume"]) & set(volumes.values()), left
    kept = docker("volume", "inspect", "-f", "{{.Name}}", *volumes.values()).split()
    assert sorted(kept) == sorted(volumes.values())
    assert digests(names["database"]) == before
    return rolled


def test_takeover_switch_through_pulumi_up_and_back_to_compose(deployments, ops_cli, tmp_path):
    production, bed, images = deployments
    names = production["names"]
    started = time.monotonic()
    before = digests(names["database"])
    image_ids = {n: docker("inspect", "-f", "{{.Image}}", n) for n in names.values()}
    legacy_ids = legacy_message_ids(names["database"])

    adopt, audit_dir = _adopt_and_audit(bed, production, images, tmp_path)
    steps = _preview_imports_and_deletes_nothing(bed, production, adopt, ops_cli, tmp_path)
    report = _takeover_switch(bed, production, audit_dir, ops_cli, tmp_path)
    migrated = _serves_the_migrated_data(bed, legacy_ids)
    rolled = _back_to_compose(bed, production, audit_dir, ops_cli, tmp_path, image_ids, before)

    volume_step = steps[naming.StackNames(bed.name, DOMAIN).volume("database-data")]["op"]
    print(f"\ntakeover switch and rollback to compose in {time.monotonic() - started:.1f} s: "
          f"{sum(production['counts'].values())} legacy documents hash-equal, "
          f"{sum(migrated.values())} migrated; preview step of database-data: {volume_step}; "
          f"switch {report['seconds']:.1f} s (window {report['writeUnavailability']['seconds']:.1f} s); "
          f"rollback {rolled['compose'].get('restore', {}).get('seconds')} s")
