"""The real program, from the project directory, on the local Docker engine, through the real
plugins (language host, pulumi-docker, pulumi-command): what `pulumi up --stack <name>` creates,
that a second preview changes nothing, one release in Docker mode (backup -> migration ->
health gate, the last two in the tools image on the stack's network), a failing gate stopping
the update, and `ops teardown` leaving only the protected volumes, named.

One stack for the whole module (a platform takes about a minute to come up on two cores); the
tests run in file order and each states what it starts from.
"""
from __future__ import annotations

import contextlib
import http.client
import json
import secrets
import ssl
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

import pymongo
import pytest

from components.platform.maintenance import RETRY_AFTER_SECONDS
from config import naming
from legacy_data.dataset import insert_legacy_dataset
from legacy_data.legacy_defaults import LEGACY_DIR, LEGACY_SCHEMAS
from migration.engine.validation.image_schema import DEFAULT_PATH_IN_IMAGE
from migration.meeshy import SCHEMA_PATH
from testing import secret_scan
from testing.prisma import plant
from tests.support.docker_stack import (
    DASHBOARD_PASSWORD,
    EXAMPLE_SECRETS,
    REPO_ROOT,
    DockerStack,
    docker,
    labelled,
    local_images,
)
from tests.support.schema_variants import MISSING_FIELD, schema_requiring_a_new_field
from tests.support.stack_scan import dashboard_status, scan_everything

pytestmark = [pytest.mark.e2e, pytest.mark.docker]

APP_CONTAINERS = ("traefik", "database", "redis", "translator", "gateway", "web", "static",
                  "maintenance")
LEGACY_SCALE = 0.01   # about 1,250 legacy documents, every defect present


@pytest.fixture(scope="module")
def mismatch_image(docker_engine, tmp_path_factory):
    """The target gateway stand-in carrying a schema that requires a field no document has:
    a release built from another schema than the one the data was migrated to."""
    images = local_images()
    # A tag of this run only: its teardown removes it, and no other run may be using it.
    tag = f"meeshy-local/gateway:schema-mismatch-{secrets.token_hex(6)}"
    context = tmp_path_factory.mktemp("mismatch-image")
    (context / "schema.prisma").write_text(schema_requiring_a_new_field())
    dockerfile = f"FROM {images['gateway']}\nCOPY schema.prisma {DEFAULT_PATH_IN_IMAGE}\n"
    done = subprocess.run(["docker", "build", "-t", tag, "-f", "-", str(context)],
                          input=dockerfile, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    yield tag
    subprocess.run(["docker", "rmi", tag], capture_output=True, timeout=120)


@pytest.fixture(scope="module")
def stack(docker_engine, tmp_path_factory):
    bed = DockerStack(tmp_path_factory.mktemp("docker-stack"))
    bed.init(bed.settings())
    try:
        yield bed
    finally:
        left = bed.remove()
        assert not left["container"], f"containers left behind by the tests: {left['container']}"


def inspect(name: str) -> dict:
    return json.loads(docker("inspect", name))[0]


def labelled_service(stack: DockerStack, service: str) -> list[str]:
    """The Docker names of `service`'s containers (a rolling one's carry their digest)."""
    return docker("ps", "--all", "--filter", f"label={naming.STACK_LABEL}={stack.name}",
                  "--filter", f"label=meeshy.service={service}", "--format", "{{.Names}}").split()


def container_of(stack: DockerStack, service: str) -> str:
    """The Docker name of `service`'s one container."""
    found = labelled_service(stack, service)
    assert len(found) == 1, (service, found)
    return found[0]


def record_resources(stack: DockerStack, up_output: str, seconds: float) -> None:
    """The stack's resources as the engine holds them, kept in reports/ for the record."""
    state = json.loads(stack.pulumi("stack", "export").stdout)["deployment"]["resources"]
    lines = [f"{r['type']} {r['urn'].rsplit('::', 1)[-1]}" for r in state]
    Path("reports").mkdir(exist_ok=True)
    Path("reports/e2e-docker-stack.txt").write_text(
        f"pulumi up in {seconds:.1f} s\n" + up_output.split("Resources:")[-1].strip() + "\n\n"
        + "\n".join(sorted(lines)) + "\n")


def wait_healthy(names: set[str], seconds: float = 150) -> dict[str, str]:
    """Docker's own health status of each container, once all are healthy or time is up (this
    engine has no start interval: a first probe comes one interval, 30 s, after the start)."""
    deadline = time.monotonic() + seconds
    while True:
        status = {n: (inspect(n)["State"].get("Health") or {}).get("Status") for n in names}
        if set(status.values()) == {"healthy"} or time.monotonic() > deadline:
            return status
        time.sleep(2)


def test_each_stand_in_carries_the_schema_its_release_was_written_under(docker_engine, tmp_path):
    """Copied out where the real gateway image keeps it, by the release step's own program."""
    import hashlib
    import sys
    images = local_images()
    expected = {images["gateway"]: SCHEMA_PATH, images["gateway@unhealthy"]: SCHEMA_PATH,
                images["translator"]: SCHEMA_PATH,
                images["gateway@legacy"]: LEGACY_DIR / LEGACY_SCHEMAS[0],
                images["web@legacy"]: LEGACY_DIR / LEGACY_SCHEMAS[0]}
    for image, source in expected.items():
        out = tmp_path / "schema.prisma"
        done = subprocess.run([sys.executable, "-m", "steps.image_schema", "--image", image,
                               "--out", str(out)], cwd=REPO_ROOT, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr
        copied = json.loads(done.stdout)
        assert copied["sha256"] == hashlib.sha256(source.read_bytes()).hexdigest(), image
        assert out.read_bytes() == source.read_bytes()
    assert not docker("ps", "-a", "--filter", f"ancestor={images['gateway']}", "--format",
                      "{{.ID}}").strip(), "the copy's container is left behind"


def test_up_from_the_project_directory_creates_exactly_the_named_platform(stack):
    started = time.monotonic()
    up = stack.pulumi("up", "--yes", "--skip-preview")
    seconds = time.monotonic() - started
    record_resources(stack, up.stdout, seconds)
    names = naming.StackNames(stack.name, "e2e.localhost")
    expected = {container_of(stack, service) for service in APP_CONTAINERS}
    assert {naming.fixed_container_name(n) for n in labelled("container", stack.name)} == {
        names.container(service) for service in APP_CONTAINERS}
    assert set(labelled("container", stack.name)) == expected
    assert wait_healthy(expected) == {name: "healthy" for name in expected}
    for name in expected:
        assert set(inspect(name)["NetworkSettings"]["Networks"]) == {names.network}
    assert labelled("network", stack.name) == [names.network]
    outputs = stack.outputs()
    assert outputs["volumeNames"] == {p: names.volume(p) for p in outputs["volumeNames"]}
    assert set(labelled("volume", stack.name)) == set(outputs["volumeNames"].values())
    bindings = inspect(names.container("traefik"))["HostConfig"]["PortBindings"]
    published = {int(b["HostPort"]) for spec in bindings.values() for b in spec}
    assert published == {stack.ports["http"], stack.ports["https"]}
    database = inspect(names.container("database"))["HostConfig"]["PortBindings"]
    assert [b["HostIp"] for spec in database.values() for b in spec] == ["127.0.0.1"]
    release = outputs["release"]
    assert release["backup"]["database"] == "meeshy" and release["migration"] is None
    assert set(release["health"]) >= {"gateway", "translator", "web", "static"}


def test_a_second_preview_shows_no_change(stack):
    preview = stack.pulumi("preview", "--diff", "--expect-no-changes", check=False)
    assert preview.returncode == 0, preview.stdout[-4000:] + preview.stderr[-2000:]


def _answer(port: int, host: str) -> tuple:
    """What a client gets from the stack's Traefik for `host`: (status, Retry-After) or the error."""
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=10,
                                       context=ssl._create_unverified_context())
    try:
        conn.request("GET", "/health", headers={"Host": host})
        answer = conn.getresponse()
        answer.read()
        return answer.status, answer.getheader("Retry-After")
    except OSError as exc:
        return "error", type(exc).__name__
    finally:
        conn.close()


@contextlib.contextmanager
def steady_client(port: int, host: str):
    """A client asking Traefik for `host` back to back, in a thread; yields its answers."""
    answers: list = []
    stop = threading.Event()

    def keep_asking():
        while not stop.is_set():
            answers.append(_answer(port, host))

    client = threading.Thread(target=keep_asking, daemon=True)
    client.start()
    try:
        yield answers
    finally:
        stop.set()
        client.join(30)


def test_maintenance_flips_touch_no_container_and_every_request_gets_a_definite_answer(stack):
    """On and off under a steady client: each request is answered by the gateway or refused by
    the page (503 with Retry-After), never a 502 or a reset; the page is up as soon as the
    update turning it on ends and gone as soon as the one turning it off ends; no container is
    replaced (the flip is the page's router in Traefik's file)."""
    host = naming.StackNames(stack.name, "e2e.localhost").hosts_of("gateway")[0]
    before = {name: inspect(name)["Id"] for name in labelled("container", stack.name)}
    with steady_client(stack.ports["https"], host) as answers:
        for on, expected in ((True, (503, str(RETRY_AFTER_SECONDS))), (False, (200, None))):
            stack.write_stack_file(stack.settings(**{"meeshy:maintenance": on}))
            stack.pulumi("up", "--yes", "--skip-preview")
            assert _answer(stack.ports["https"], host) == expected, f"maintenance {on}"
    assert {name: inspect(name)["Id"] for name in labelled("container", stack.name)} == before
    seen = Counter(answers)
    assert set(seen) == {(200, None), (503, str(RETRY_AFTER_SECONDS))}, seen


def test_a_plain_release_replaces_the_routed_services_without_dropping_a_request(stack):
    """A release that changes the gateway and the web (a variable each): each new container is
    started beside the old one, under a name of its own, and healthy before the old one goes;
    a client asking all along gets every answer from a gateway, none refused, none failed."""
    names = naming.StackNames(stack.name, "e2e.localhost")
    before = stack.outputs()["containerNames"]
    release = {"gateway": {"env": {"MEESHY_E2E_RELEASE": "plain"}},
               "web": {"env": {"MEESHY_E2E_RELEASE": "plain"}}}
    with steady_client(stack.ports["https"], names.hosts_of("gateway")[0]) as answers:
        time.sleep(2)
        stack.write_stack_file(stack.settings(**{"meeshy:services": release}))
        stack.pulumi("up", "--yes", "--skip-preview")
        time.sleep(2)
    after = stack.outputs()["containerNames"]
    replaced = sorted(s for s in after if after[s] != before[s])
    assert replaced == ["gateway", "web"], (before, after)
    running = set(labelled("container", stack.name))
    assert {after["gateway"], after["web"]} <= running
    assert not {before["gateway"], before["web"]} & running
    assert naming.fixed_container_name(after["gateway"]) == names.container("gateway")
    seen = Counter(answers)
    assert set(seen) == {(200, None)} and seen[(200, None)] > 20, seen


def test_a_killed_gateway_is_started_again_by_the_next_ops_update(stack, ops_cli):
    """`unless-stopped` does not restart a killed container, and Pulumi's state still holds it as
    created: before its update ops refreshes the containers it finds not running, so the update
    starts them again, with no `pulumi refresh` by hand."""
    gateway = container_of(stack, "gateway")
    docker("kill", gateway)
    assert inspect(gateway)["State"]["Running"] is False
    done = ops_cli(stack, "deploy", stack.name)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert f"1 container(s) of the stack are not running ({gateway})" in done.stderr, done.stderr[-2000:]
    assert inspect(gateway)["State"]["Running"] is True


def test_one_release_migrates_in_the_tools_image_then_a_failing_gate_stops_the_update(stack, mismatch_image):
    client = pymongo.MongoClient(f"mongodb://127.0.0.1:{stack.ports['database']}/",
                                 directConnection=True, serverSelectionTimeoutMS=10_000)
    counts = insert_legacy_dataset(client["meeshy"], seed=7, scale=LEGACY_SCALE)
    values = stack.settings(**{"meeshy:release": "e2e-2", "meeshy:migration": {
        "sourceDatabase": "meeshy", "targetDatabase": "meeshy_v2", "timeoutSeconds": 600}})
    stack.write_stack_file(values)
    up = stack.pulumi("up", "--yes", "--skip-preview")
    assert "command:local:Command" in up.stdout or "migration-run" in up.stdout
    release = stack.outputs()["release"]
    summary = release["migration"]["summary"]
    assert summary["ok"] is True, summary
    assert summary["totals"]["documents"] == sum(counts.values()), summary
    assert release["backup"]["documents"] == sum(counts.values())
    assert client["meeshy_v2"].list_collection_names(), "the migration wrote nothing"
    # Scoped to this stack's network: other suites sharing the engine may have steps running.
    runs = docker("ps", "-a", "--filter", f"ancestor={stack.images['tools']}",
                  "--filter", f"network=meeshy-{stack.name}", "--format", "{{.ID}}")
    assert not runs.strip(), "the tools containers are not removed after their step"

    refuse_then_accept_the_migrated_data_by_the_images_schema(stack, values, mismatch_image, client)

    served, good = container_of(stack, "gateway"), dict(values)
    values["meeshy:release"] = "e2e-3"
    values["meeshy:images"] = {**values["meeshy:images"], "gateway": stack.images["gateway@unhealthy"]}
    values["meeshy:healthGate"] = {"deadlineSeconds": 20, "intervalSeconds": 1}
    stack.write_stack_file(values)
    failed = stack.pulumi("up", "--yes", "--skip-preview", check=False)
    output = failed.stdout + failed.stderr
    assert failed.returncode != 0, output[-3000:]
    assert "gate" in output and "gateway" in output, output[-3000:]
    history = json.loads(stack.pulumi("stack", "history", "--json").stdout)
    assert history[0]["result"] == "failed" and history[1]["result"] == "succeeded"
    # The unhealthy gateway was started beside the one serving, which still serves, until the
    # good settings are applied again: the serving container's own name is created anew (the
    # container itself, pending deletion, drained and removed first), the unhealthy one goes.
    left = labelled_service(stack, "gateway")
    assert len(left) == 2 and served in left, left
    host = naming.StackNames(stack.name, "e2e.localhost").hosts_of("gateway")[0]
    assert _answer(stack.ports["https"], host) == (200, None)
    stack.write_stack_file({**good, "meeshy:release": "e2e-3b"})
    stack.pulumi("up", "--yes", "--skip-preview")
    assert labelled_service(stack, "gateway") == [served]
    assert _answer(stack.ports["https"], host) == (200, None)


def refuse_then_accept_the_migrated_data_by_the_images_schema(stack, values, mismatch_image, client):
    """The services move onto the migrated database. With a gateway image whose schema requires
    a field the data lacks, and one migrated document made wrong for Prisma (a DateTime stored
    as a string), the update fails at the schema check: our validator names the missing field,
    the Prisma Client the image carries refuses the document naming model and field, and not
    one application container is replaced; with the image whose schema the data was migrated
    to and the document repaired, the same move goes through, read by that client."""
    apps = [container_of(stack, s) for s in ("translator", "gateway", "web")]
    before = {name: inspect(name)["Id"] for name in apps}
    values["meeshy:database"] = {**values["meeshy:database"], "name": "meeshy_v2"}
    values["meeshy:images"] = {**values["meeshy:images"], "gateway": mismatch_image}
    stack.write_stack_file(values)
    original = client["meeshy_v2"].Participant.find_one({}, sort=[("_id", 1)])
    model, field = plant(client["meeshy_v2"], "DateTime stored as a string")
    refused = stack.pulumi("up", "--yes", "--skip-preview", check=False)
    output = refused.stdout + refused.stderr
    assert refused.returncode != 0, output[-3000:]
    said = "\n".join(line for line in output.splitlines() if "error" in line or "problem" in line)
    assert f"User.{MISSING_FIELD}: missing required field" in output, said[-4000:]
    assert f"refused 1 document(s) of model {model}: field {field} (P" in output, said[-4000:]
    assert {name: inspect(name)["Id"] for name in apps} == before
    client["meeshy_v2"].Participant.replace_one({"_id": original["_id"]}, original)
    assert all(inspect(name)["State"]["Running"] for name in apps)
    assert "meeshy_v2" not in json.dumps(inspect(container_of(stack, "gateway"))["Config"]["Env"])

    values["meeshy:images"] = {**values["meeshy:images"], "gateway": stack.images["gateway"]}
    stack.write_stack_file(values)
    stack.pulumi("up", "--yes", "--skip-preview")
    outputs = stack.outputs()
    checked = outputs["schemaCheck"]
    assert checked["database"] == "meeshy_v2" and checked["result"]["ok"] is True, checked
    assert checked["result"]["documents"] > 0 and checked["result"]["invalid"] == 0
    prisma = checked["prisma"]
    assert prisma["prisma"].startswith("6.19.") and prisma["refused"] == 0, prisma
    assert prisma["documents"] == checked["result"]["documents"], prisma
    assert outputs["release"]["databaseName"] == "meeshy_v2"
    # The services whose database URL changed were replaced (web reads none), under new names.
    for service, old in zip(("translator", "gateway"), apps):
        assert container_of(stack, service) != old and old not in labelled("container", stack.name)
    assert container_of(stack, "web") == apps[2] and inspect(apps[2])["Id"] == before[apps[2]]


def test_a_forgotten_secret_file_fails_the_health_gate_naming_it(stack, tmp_path):
    """Production's Firebase credentials as a host file the operator forgot to copy: Docker
    mounts an empty directory in its place, the gateway refuses to report healthy, and the
    update fails at the gate, naming the variable (never a value)."""
    forgotten = {"path": "/app/secrets/firebase-admin-sdk.json", "env": "FIREBASE_ADMIN_CREDENTIALS_PATH",
                 "hostPath": str(tmp_path / "not-copied" / "firebase-admin-sdk.json")}
    served, before = container_of(stack, "gateway"), stack.stack_file.read_text()
    stack.write_stack_file(stack.settings(**{
        "meeshy:release": "e2e-4", "meeshy:healthGate": {"deadlineSeconds": 20, "intervalSeconds": 1},
        "meeshy:services": {"gateway": {"secretFiles": [forgotten]}}}))
    failed = stack.pulumi("up", "--yes", "--skip-preview", check=False)
    output = failed.stdout + failed.stderr
    assert failed.returncode != 0, output[-3000:]
    assert "FIREBASE_ADMIN_CREDENTIALS_PATH" in output and "gateway" in output, output[-3000:]
    # The old gateway still serves: the new one was started beside it, and Traefik never
    # routes to a container that is not healthy.
    host = naming.StackNames(stack.name, "e2e.localhost").hosts_of("gateway")[0]
    left = labelled_service(stack, "gateway")
    assert len(left) == 2 and served in left, left
    assert _answer(stack.ports["https"], host) == (200, None)
    # Back to the settings before: the old container's own name is created again (its
    # container, pending deletion, is drained and removed first), the failed one goes.
    stack.stack_file.write_text(before)
    stack.pulumi("up", "--yes", "--skip-preview")
    assert labelled_service(stack, "gateway") == [served]
    assert _answer(stack.ports["https"], host) == (200, None)



def test_the_dashboard_signs_in_from_traefiks_users_file(stack):
    """The middleware's users come from the file uploaded into Traefik: no entry, 401; the
    entry's password, the dashboard's API (a router whose users file is unreadable is not served).
    This Traefik is built from its Go module without the web UI's assets, so /api, not /dashboard/."""
    host = naming.StackNames(stack.name, "e2e.localhost").hosts_of("traefik")[0]
    assert dashboard_status(stack.ports["https"], host, None) == 401
    assert dashboard_status(stack.ports["https"], host, ("ops", "not-the-password")) == 401
    assert dashboard_status(stack.ports["https"], host, ("ops", DASHBOARD_PASSWORD)) == 200


def test_no_secret_value_outside_the_env_only_variables(stack, ops_cli):
    """Every secret the stack holds, searched in every container's labels and `docker inspect`,
    the state backend, the backups' manifests, the reports, the migration's ledger collections
    and every CLI and ops output so far; then one planted in a label on the engine is found."""
    found = scan_everything(stack, ops_cli)
    assert found == [], "\n".join(found)
    # Any of the gateway's containers: the failed release above left its new one beside the old.
    gateway = inspect(labelled_service(stack, "gateway")[0])
    assert f"JWT_SECRET={EXAMPLE_SECRETS['meeshy:jwtSecret']}" in gateway["Config"]["Env"]
    planted = docker("create", "--label", f"{naming.STACK_LABEL}={stack.name}", "--label",
                     f"leak={EXAMPLE_SECRETS['meeshy:adminPassword']}", stack.images["tools"],
                     "true").strip()
    try:
        name = inspect(planted)["Name"].lstrip("/")
        found = scan_everything(stack, ops_cli)
    finally:
        docker("rm", planted)
    assert found == [f"container {name} label leak: holds the value of meeshy:adminPassword"]


def test_teardown_keeps_the_protected_volumes_and_names_them(stack, ops_cli):
    names = naming.StackNames(stack.name, "e2e.localhost")
    done = ops_cli(stack, "teardown", stack.name, "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    assert secret_scan.in_text(EXAMPLE_SECRETS, "ops teardown", done.stdout + done.stderr) == []
    assert labelled("container", stack.name) == []
    assert labelled("network", stack.name) == []
    protected = {names.volume(p) for p, is_data in naming.VOLUMES.items() if is_data}
    assert set(labelled("volume", stack.name)) == protected
    for volume in protected:
        assert volume in done.stdout, f"{volume} is not named by teardown:\n{done.stdout}"


def test_the_policy_pack_stops_a_violating_stack_before_any_change(docker_engine, tmp_path):
    """Staging's host ports declared by another stack: the program's settings accept it (they
    see one stack); `pulumi up --policy-pack policy` refuses it at its preview, before any change.
    (ops refuses the same stack earlier still, in its preflight: ops/preflight.py.)"""
    import yaml
    staging = yaml.safe_load((REPO_ROOT / "Pulumi.staging.yaml").read_text())["config"]
    bed = DockerStack(tmp_path)
    clash = {"http": staging["meeshy:ports"]["http"], "https": staging["meeshy:ports"]["https"]}
    bed.init(bed.settings(**{"meeshy:ports": clash}))
    try:
        done = bed.pulumi("up", "--yes", "--policy-pack", "policy", check=False)
        output = done.stdout + done.stderr
        assert done.returncode != 0, output[-3000:]
        assert "meeshy-host-ports-isolated" in output and "mandatory" in output, output[-3000:]
        assert str(clash["http"]) in output and "staging" in output, output[-3000:]
        assert [labelled(kind, bed.name) for kind in ("container", "network", "volume")] == [[], [], []]
        history = json.loads(bed.pulumi("stack", "history", "--json").stdout or "[]")
        assert [h["result"] for h in history] in ([], ["failed"])
        print(output[-1500:])
    finally:
        bed.remove()


def test_a_broken_stack_file_is_named_and_nothing_is_deployed(docker_engine, tmp_path, ops_cli):
    bed = DockerStack(tmp_path)
    bed.init(bed.settings())
    try:
        text = bed.stack_file.read_text()
        bed.stack_file.write_text(text.replace("meeshy:domain:", "meeshy:domain: [unclosed\n  x:", 1))
        done = ops_cli(bed, "deploy", bed.name)
        assert done.returncode == 2, done.stdout + done.stderr
        assert f"{bed.stack_file} (line" in done.stderr, done.stderr
        assert "not a readable YAML stack file" in done.stderr, done.stderr
        assert "Traceback" not in done.stderr
        assert labelled("container", bed.name) == [] and labelled("network", bed.name) == []
        # The CLI refuses it too, though its sentence names a line, not the file.
        cli = bed.pulumi("preview", check=False)
        assert cli.returncode != 0 and "invalid YAML file: yaml: line" in cli.stderr
    finally:
        bed.remove()
