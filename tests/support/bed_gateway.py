"""A gateway for the release test bed (tests/e2e/stackbed.py), where no container runs: it
answers the rehearsal's load generator (ops/rehearse/load.py, unchanged: HTTPS on 127.0.0.1
with a Host header) the way the stand-in gateway would, through the stand-in's own store
(images/standin/meeshy_standin/store.py), on the database the stack's deployed state names.

On each POST it reads the stack's outputs from the file backend's checkpoint (`release`:
databaseName, maintenance) and the program's maintenance route (a file in the project, there
from the route's step on, as Traefik's route is: tests/e2e/project/__main__.py): maintenance on
answers 503 with Retry-After (refused), otherwise the message is
written in that database's schema (legacy for the migration's source, target otherwise) and
201 carries its id (acknowledged). So what the load saw follows the switch's updates as the
containers would, and every acknowledged id can be looked for afterwards. A GET of the same
path lists the conversation's newest messages from that database, as the gateway serves them.
"""
from __future__ import annotations

import json
import re
import ssl
import subprocess
import sys
import threading
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "images" / "standin"))

from meeshy_standin.store import NewMessage, RequestError, Store  # noqa: E402

from components.platform.maintenance import RETRY_AFTER_SECONDS  # noqa: E402
from tests.support.json_http import JsonHandler, LoopbackServer  # noqa: E402

_POST = re.compile(r"^/api/v1/conversations/([0-9a-f]{24})/messages$")


def deployed_release(state: Path, project: str, stack: str) -> dict:
    """The stack's `release` output as the last checkpoint holds it ({} before any)."""
    path = Path(state) / ".pulumi" / "stacks" / project / f"{stack}.json"
    try:
        checkpoint = json.loads(path.read_text())["checkpoint"]
    except (OSError, ValueError, KeyError):
        return {}
    for resource in (checkpoint.get("latest") or {}).get("resources") or []:
        if resource.get("type") == "pulumi:pulumi:Stack":
            return (resource.get("outputs") or {}).get("release") or {}
    return {}


def self_signed(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "gateway.crt", folder / "gateway.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    return cert, key


class BedGateway(LoopbackServer):
    def __init__(self, database_uri: str, state: Path, *, project: str = "meeshy",
                 stack: str = "production", legacy: str = "meeshy", folder: Path, program: Path):
        """`folder`: where its certificate goes; `program`: the bed's copy of the program
        (StackBed.project), where the maintenance route's file is."""
        self.uri, self.state, self.project, self.stack = database_uri.rstrip("/"), state, project, stack
        self.route_flag = Path(program) / f".maintenance-route-{stack}"
        self.legacy, self.stores, self.lock = legacy, {}, threading.Lock()
        gateway = self

        class Handler(JsonHandler):
            def do_POST(self):
                found = _POST.match(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if not found:
                    return self._answer(404, {"error": "not found"})
                status, payload = gateway.post(found.group(1), body)
                # Refused as the maintenance page refuses: a 503 that says when to retry.
                retry = {"Retry-After": str(RETRY_AFTER_SECONDS)} if status == 503 else None
                self._answer(status, payload, retry)

            def do_GET(self):
                found = _POST.match(self.path.split("?")[0])
                if not found:
                    return self._answer(404, {"error": "not found"})
                self._answer(*gateway.list(found.group(1)))

        self.serve(Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*self_signed(folder))
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def store(self, database: str) -> Store:
        with self.lock:
            if database not in self.stores:
                schema = "legacy" if database == self.legacy else "target"
                self.stores[database] = Store(f"{self.uri}/{database}", schema)
            return self.stores[database]

    def post(self, conversation: str, body: bytes) -> tuple[int, dict]:
        from bson import ObjectId
        release = deployed_release(self.state, self.project, self.stack)
        if (not release.get("databaseName") or release.get("maintenance")
                or self.route_flag.exists()):
            return 503, {"error": "maintenance"}
        try:
            new = NewMessage.from_body(json.loads(body or b"{}"))
            made = self.store(release["databaseName"]).post_message(ObjectId(conversation), new)
        except RequestError as error:
            return error.status, {"error": str(error)}
        return 201, {"data": {"id": str(made["id"]), "database": release["databaseName"]}}

    def list(self, conversation: str, limit: int = 100) -> tuple[int, dict]:
        from bson import ObjectId
        release = deployed_release(self.state, self.project, self.stack)
        if not release.get("databaseName"):
            return 503, {"error": "nothing deployed"}
        try:
            found = self.store(release["databaseName"]).messages(ObjectId(conversation), limit)
        except RequestError as error:
            return error.status, {"error": str(error)}
        return 200, {"data": [{**m, "id": str(m["id"])} for m in found]}

    def __exit__(self, *exc):
        super().__exit__(*exc)
        for store in self.stores.values():
            store.close()
