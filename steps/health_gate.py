"""Waits until every service answers its health endpoint and the database answers ping.

    python -m steps.health_gate --deadline SECONDS [--interval SECONDS] \
        --http NAME=URL ... [--mongo-env VARIABLE]

Bounded polling: each probe has its own short timeout and the whole gate stops at the deadline.
On failure it exits 1 and names every service that was not healthy with its last answer
(status code and the start of the body, or the connection error), so an operator reads
"gateway: HTTP 503 {"status":"degraded"...}" instead of "health check failed". The database
URI is read from an environment variable so credentials never appear on a command line.
Prints a JSON result on stdout in both cases.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from steps.protocol import print_result

BODY_EXCERPT = 200
DEFAULT_MONGO_ENV = "MEESHY_HEALTH_MONGO_URI"


@dataclass
class ProbeState:
    name: str
    healthy: bool = False
    attempts: int = 0
    last_answer: str = "not probed"
    healthy_after_seconds: float | None = None


def probe_http(url: str, timeout: float) -> tuple[bool, str]:
    request = urllib.request.Request(url, headers={"User-Agent": "meeshy-health-gate"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read(BODY_EXCERPT).decode(errors="replace")
            return 200 <= response.status < 300, f"HTTP {response.status} {body}".strip()
    except urllib.error.HTTPError as error:
        body = error.read(BODY_EXCERPT).decode(errors="replace") if error.fp else ""
        return False, f"HTTP {error.code} {body}".strip()
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        return False, f"no answer: {reason}"


def probe_mongo(uri: str, timeout: float) -> tuple[bool, str]:
    from pymongo.errors import PyMongoError

    from migration.engine.deadlines import mongo_client

    client = mongo_client(uri, timeout, connect_seconds=timeout)
    try:
        answer = client.admin.command("ping")
        ok = float(answer.get("ok", 0)) == 1.0
        return ok, f"ping ok={answer.get('ok')}"
    except PyMongoError as error:
        return False, f"no answer: {type(error).__name__}: {str(error).splitlines()[0][:BODY_EXCERPT]}"
    finally:
        client.close()


def run_gate(http: dict[str, str], mongo_uri: str | None, deadline: float, interval: float,
             probe_timeout: float) -> dict:
    probes = {name: ProbeState(name) for name in http}
    if mongo_uri:
        probes["database"] = ProbeState("database")
    started = time.monotonic()
    while True:
        for name, state in probes.items():
            if state.healthy:
                continue
            remaining = deadline - (time.monotonic() - started)
            timeout = max(0.2, min(probe_timeout, remaining))
            if name == "database" and mongo_uri:
                ok, answer = probe_mongo(mongo_uri, timeout)
            else:
                ok, answer = probe_http(http[name], timeout)
            state.attempts += 1
            state.last_answer = answer
            if ok:
                state.healthy = True
                state.healthy_after_seconds = round(time.monotonic() - started, 3)
        elapsed = time.monotonic() - started
        if all(state.healthy for state in probes.values()) or elapsed + interval > deadline:
            break
        time.sleep(interval)
    failed = [state for state in probes.values() if not state.healthy]
    return {
        "healthy": not failed,
        "elapsedSeconds": round(time.monotonic() - started, 3),
        "deadlineSeconds": deadline,
        "services": {
            state.name: {
                "healthy": state.healthy,
                "attempts": state.attempts,
                "lastAnswer": state.last_answer,
                "healthyAfterSeconds": state.healthy_after_seconds,
            }
            for state in probes.values()
        },
        "failures": [f"{state.name}: {state.last_answer}" for state in failed],
    }


def parse_http(values: list[str]) -> dict[str, str]:
    endpoints = {}
    for value in values:
        name, sep, url = value.partition("=")
        if not sep or not name or not url.startswith(("http://", "https://")):
            raise ValueError(f"--http expects NAME=http(s)://..., got {value!r}")
        if name in endpoints:
            raise ValueError(f"--http names {name!r} twice")
        endpoints[name] = url
    return endpoints


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m steps.health_gate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deadline", type=float, required=True, help="seconds")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between rounds")
    parser.add_argument("--probe-timeout", type=float, default=5.0)
    parser.add_argument("--http", action="append", default=[], metavar="NAME=URL")
    parser.add_argument("--mongo-env", metavar="VARIABLE",
                        help=f"environment variable holding the database URI (e.g. {DEFAULT_MONGO_ENV})")
    args = parser.parse_args(argv)
    try:
        endpoints = parse_http(args.http)
    except ValueError as error:
        parser.error(str(error))
    mongo_uri = None
    if args.mongo_env:
        mongo_uri = os.environ.get(args.mongo_env)
        if not mongo_uri:
            parser.error(f"--mongo-env {args.mongo_env}: that environment variable is empty")
    if not endpoints and not mongo_uri:
        parser.error("nothing to check: give --http and/or --mongo-env")
    if args.deadline <= 0 or args.interval <= 0:
        parser.error("--deadline and --interval must be positive")
    result = run_gate(endpoints, mongo_uri, args.deadline, args.interval, args.probe_timeout)
    print_result(result)
    if not result["healthy"]:
        print("health gate failed after %.1f s: %s" % (result["elapsedSeconds"],
              "; ".join(result["failures"])), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
