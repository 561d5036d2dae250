"""The Traefik command line the stack declares, run by the real Traefik binary (built into the
tool cache by tools/) on loopback: every flag is accepted, the ping healthcheck answers, and
HTTP redirects to the stack's own HTTPS port. Skipped where the binary is not built yet."""
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from components.platform.traefik import traefik_command
from config.settings import load_settings
from testing.mock_pulumi import EXAMPLE_SECRETS, stack_file_config

TRAEFIK = Path(os.environ.get("MEESHY_BIN", Path.home() / ".cache/meeshy-infra/bin")) / "traefik"
pytestmark = pytest.mark.skipif(not TRAEFIK.exists(), reason=f"{TRAEFIK} not built (tools/build-traefik.sh)")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def loopback(cmd, tmp_path, web, websecure, ping):
    """The declared command with listeners moved to loopback and nothing outside touched."""
    moved = {"--entrypoints.web.address": f"127.0.0.1:{web}",
             "--entrypoints.websecure.address": f"127.0.0.1:{websecure}",
             "--certificatesresolvers.letsencrypt.acme.storage": str(tmp_path / "acme.json")}
    out = [f"{a.split('=', 1)[0]}={moved[a.split('=', 1)[0]]}" if a.split("=", 1)[0] in moved else a
           for a in cmd]
    return out + [f"--entrypoints.traefik.address=127.0.0.1:{ping}",
                  f"--providers.docker.endpoint=unix://{tmp_path}/no-engine.sock"]


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_declared_command_runs_in_real_traefik(stack, tmp_path):
    settings = load_settings(stack, {**stack_file_config(stack), **EXAMPLE_SECRETS})
    cmd = traefik_command(settings)
    web, websecure, ping = free_port(), free_port(), free_port()
    log = open(tmp_path / "traefik.log", "w")
    proc = subprocess.Popen([str(TRAEFIK), *loopback(cmd, tmp_path, web, websecure, ping)],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while True:
            assert proc.poll() is None, (tmp_path / "traefik.log").read_text()
            try:
                assert urllib.request.urlopen(f"http://127.0.0.1:{ping}/ping", timeout=2).read() == b"OK"
                break
            except OSError:     # refused, reset or timed out while Traefik starts (URLError is one)
                assert time.monotonic() < deadline, "Traefik did not answer its ping"
                time.sleep(0.2)
        check = subprocess.run([str(TRAEFIK), "healthcheck", "--ping", "--ping=true",
                                f"--entrypoints.traefik.address=127.0.0.1:{ping}"],
                               capture_output=True, text=True, timeout=10)
        assert check.returncode == 0, check.stdout + check.stderr
        host = settings.names.hosts_of("gateway")[0]
        request = urllib.request.Request(f"http://127.0.0.1:{web}/api/v1/x", headers={"Host": host})
        with pytest.raises(urllib.error.HTTPError) as answer:
            urllib.request.build_opener(NoRedirect).open(request, timeout=5)
        assert answer.value.code in (301, 308)
        port = settings.ports.https if settings.ports.https != 443 else websecure
        assert answer.value.headers["Location"] == f"https://{host}:{port}/api/v1/x"
    finally:
        proc.terminate()  # graceful stop can wait on ACME calls that cannot leave this machine
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        log.close()
    text = (tmp_path / "traefik.log").read_text()
    assert "field not found" not in text and "Version check is enabled" not in text
