"""The stand-in gateway (images/standin) refuses to report healthy while a required variable or a
secret file its environment points at is missing, so a forgotten secret fails the health gate
(and the switch rolls back) instead of starting a gateway that silently stops sending pushes."""
from __future__ import annotations

import json
import pathlib
import sys
import threading
import urllib.error
import urllib.request

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[3] / "images" / "standin"))

from meeshy_standin import preflight  # noqa: E402
from meeshy_standin.config import Config  # noqa: E402
from meeshy_standin.server import StandinServer  # noqa: E402

FIREBASE = "FIREBASE_ADMIN_CREDENTIALS_PATH"


def health(config: Config, path: str) -> tuple[int, dict]:
    server = StandinServer(config, host="127.0.0.1")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}{path}"
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as exc:
            return exc.code, json.load(exc)
    finally:
        server.shutdown()
        server.server_close()


def test_environment_names_the_secret_files_and_the_missing_variables():
    env = {"MEESHY_STANDIN_ROLE": "gateway", "DATABASE_URL": "mongodb://d/m",
           FIREBASE: "/app/secrets/firebase-admin-sdk.json", "UPLOAD_PATH": "/app/uploads",
           "APNS_KEY_PATH": "/app/secrets/apns_key.p8"}
    config = Config.from_env(env)
    assert config.missing_env == ("JWT_SECRET",)
    assert config.secret_files == (("APNS_KEY_PATH", "/app/secrets/apns_key.p8"),
                                   (FIREBASE, "/app/secrets/firebase-admin-sdk.json"))
    assert Config.from_env({**env, "JWT_SECRET": "s" * 32}).missing_env == ()


def test_each_kind_of_missing_file_is_named(tmp_path):
    good = tmp_path / "good.json"
    good.write_text("{}")
    empty = tmp_path / "empty.json"
    empty.write_text("")
    as_dir = tmp_path / "dir.json"          # what Docker makes of a missing host file
    as_dir.mkdir()
    found = preflight.problems(("JWT_SECRET",), (("A_PATH", str(good)), ("B_PATH", str(empty)),
                                                 ("C_PATH", str(as_dir)),
                                                 ("D_PATH", str(tmp_path / "absent"))))
    assert found == ["JWT_SECRET is not set", f"B_PATH: {empty} is empty",
                     f"C_PATH: {as_dir} is not a regular file (a bind mount of a missing host "
                     "file makes a directory)", f"D_PATH: {tmp_path / 'absent'} does not exist"]


def test_gateway_is_unhealthy_until_its_secret_file_and_jwt_secret_exist(ferretdb, fresh_db,
                                                                          tmp_path):
    uri = ferretdb.uri(fresh_db("preflight"))
    translator = StandinServer(Config(role="translator", port=0, database_url=uri), host="127.0.0.1")
    threading.Thread(target=translator.serve_forever, daemon=True).start()
    secret = tmp_path / "firebase-admin-sdk.json"
    try:
        gateway = dict(role="gateway", port=0, database_url=uri, probe_timeout=2.0,
                       translator_url=f"http://127.0.0.1:{translator.server_address[1]}",
                       secret_files=((FIREBASE, str(secret)),))
        status, body = health(Config(**gateway, missing_env=("JWT_SECRET",)), "/health")
        assert status == 503
        assert body["configuration"] == ["JWT_SECRET is not set",
                                         f"{FIREBASE}: {secret} does not exist"]
        assert body["services"] == {"database": True, "translation": True}
        secret.write_text('{"type": "service_account"}')
        assert health(Config(**gateway), "/health")[0] == 200
    finally:
        translator.shutdown()
        translator.server_close()


@pytest.mark.parametrize("present", [False, True])
def test_agent_health_follows_its_secret_files(tmp_path, present):
    key = tmp_path / "llm.key"
    if present:
        key.write_text("agent-secret-4242")
    status, body = health(Config(role="agent", port=0, secret_files=(("LLM_KEY_PATH", str(key)),)),
                          "/health")
    assert status == (200 if present else 503)
    assert ("configuration" in body) is not present
    assert "agent-secret-4242" not in json.dumps(body)        # names and paths, never a value
