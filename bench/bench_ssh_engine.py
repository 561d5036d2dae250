"""The same small stack, switched and rolled back on this machine's engine and on a server reached
over SSH (tools/test-host.sh), side by side in one run:

    $MEESHY_VENV/bin/python bench/bench_ssh_engine.py [--rounds 1]

Per engine, through `python -m ops` as an operator runs it: a deploy (release 1), a switch to
release 2 (backup, maintenance, health gate: its write-unavailability window and total), a
failing switch (a gateway that never gets healthy) and its automatic rollback, `rollback --to`
release 1, teardown. Prints each figure and the ratio SSH / local. The test host is started and
removed by the bench unless it was already up. Figures, not a test: nothing is asserted.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from config import stack_edits as edit  # noqa: E402
from ops.rehearse.stacks import release_images  # noqa: E402
from tests.support.docker_stack import REPO_ROOT, DockerStack  # noqa: E402
from tests.support.ssh_host import SshStack, parse_env, run_script  # noqa: E402


def ops(stack, *args: str) -> tuple[float, subprocess.CompletedProcess]:
    clock = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "ops", *args], cwd=REPO_ROOT, env=stack.env(),
                          capture_output=True, text=True, timeout=1800)
    return time.monotonic() - clock, done


def scenario(stack) -> dict:
    images = stack.images
    legacy = edit.images(release_images(images, "legacy"))
    gate = {"meeshy:healthGate": {"deadlineSeconds": 90, "intervalSeconds": 1}}
    stack.init(stack.settings(**{"meeshy:release": "r1"}, **legacy, **gate))
    figures = {}
    try:
        figures["deploy"], done = ops(stack, "deploy", stack.name)
        _check(done, 0, "deploy")
        stack.write_stack_file(stack.settings(**{"meeshy:release": "r2"}, **legacy, **gate))
        report = stack.workdir / "switch.json"
        figures["switch"], done = ops(stack, "switch", stack.name, "--yes", "--json", str(report))
        _check(done, 0, "switch")
        figures["window"] = json.loads(report.read_text())["writeUnavailability"]["seconds"]
        broken = edit.images(release_images(images, "legacy", gateway=images["gateway@unhealthy"]))
        stack.write_stack_file(stack.settings(**{
            "meeshy:release": "r3", **broken,
            "meeshy:healthGate": {"deadlineSeconds": 20, "intervalSeconds": 1}}))
        figures["failing switch + rollback"], done = ops(stack, "switch", stack.name, "--yes")
        _check(done, 3, "failing switch")
        figures["rollback --to"], done = ops(stack, "rollback", stack.name, "--to", "1", "--yes")
        _check(done, 0, "rollback --to")
        figures["teardown"], done = ops(stack, "teardown", stack.name, "--yes")
        _check(done, 0, "teardown")
    finally:
        stack.remove()
    figures["total"] = sum(v for k, v in figures.items() if k != "window")
    return figures


def _check(done: subprocess.CompletedProcess, expected: int, what: str) -> None:
    if done.returncode != expected:
        raise SystemExit(f"{what} exited {done.returncode}: {done.stderr[-1500:]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    was_up = run_script("env", timeout=60).returncode == 0
    started = run_script("up")
    if started.returncode != 0:
        raise SystemExit(f"tools/test-host.sh up failed: {started.stderr[-1500:]}")
    host = parse_env(started.stdout)
    try:
        rows = {"local": [], "ssh": []}
        with tempfile.TemporaryDirectory(prefix="bench-ssh-") as tmp:
            for n in range(args.rounds):       # alternated, so the machine's load hits both
                rows["local"].append(scenario(DockerStack(Path(tmp) / f"local{n}")))
                rows["ssh"].append(scenario(SshStack(Path(tmp) / f"ssh{n}", host)))
    finally:
        if not was_up:
            run_script("down", timeout=300)
    print(f"{'seconds':<28}{'local':>10}{'ssh':>10}{'ssh/local':>11}")
    for key in rows["local"][0]:
        local = sum(r[key] for r in rows["local"]) / args.rounds
        ssh = sum(r[key] for r in rows["ssh"]) / args.rounds
        print(f"{key:<28}{local:>10.1f}{ssh:>10.1f}{ssh / local:>11.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
