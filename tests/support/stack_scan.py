"""What the Docker platform's end-to-end test asks of a running stack: the dashboard's answer
through Traefik, and the secret scan over every place a secret must never be."""
from __future__ import annotations

import base64
import http.client
import json
import ssl

import pymongo

from testing import secret_scan
from tests.support.docker_stack import EXAMPLE_SECRETS, REPO_ROOT, docker, labelled


def dashboard_status(port: int, host: str, user: tuple[str, str] | None) -> int:
    headers = {"Host": host}
    if user:
        headers["Authorization"] = "Basic " + base64.b64encode(":".join(user).encode()).decode()
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=10,
                                       context=ssl._create_unverified_context())
    try:
        conn.request("GET", "/api/version", headers=headers)   # the API behind the dashboard
        return conn.getresponse().status
    finally:
        conn.close()


def scan_everything(stack, ops_cli) -> list[str]:
    history = ops_cli(stack, "history", stack.name, "--json", str(stack.workdir / "history.json"))
    assert history.returncode == 0, history.stdout + history.stderr
    env_only = secret_scan.env_only_variables()
    inspected = [json.loads(docker("inspect", name))[0] for name in labelled("container", stack.name)]
    found = [f for c in inspected for f in secret_scan.in_container(EXAMPLE_SECRETS, c, env_only)]
    found += secret_scan.in_files(EXAMPLE_SECRETS, [stack.workdir, REPO_ROOT / "reports",
                                                    stack.stack_file])
    outputs = stack.transcript + [("ops history", history.stdout + history.stderr)]
    found += [f for where, text in outputs for f in secret_scan.in_text(EXAMPLE_SECRETS, where, text)]
    client = pymongo.MongoClient(f"mongodb://127.0.0.1:{stack.ports['database']}/",
                                 directConnection=True, serverSelectionTimeoutMS=10_000)
    for db in ("meeshy", "meeshy_v2"):
        for coll in client[db].list_collection_names():
            if coll.startswith("_"):
                text = json.dumps(list(client[db][coll].find()), default=str)
                found += secret_scan.in_text(EXAMPLE_SECRETS, f"collection {db}.{coll}", text)
    return found
