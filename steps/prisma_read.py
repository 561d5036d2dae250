"""Reads every document of a database through a generated Prisma Client, the ORM of Meeshy's
gateway (the program is steps/prisma_read.js, fed to `node -` on stdin):

    python -m steps.prisma_read --client DIR  [--models A,B] [--deadline S]     node on this host
    python -m steps.prisma_read --image IMAGE [--client-path PATH] [--network NET]
                                [--docker-host H] [--models A,B] [--deadline S]  the image's node,
                                                                                 client and engine
    ... --written REPORT    only the documents a migration pass wrote: REPORT is its JSON report
                            (`written`, migration/engine/target/written.py), read on this host;
                            without a complete list there (a full pass, a resumed one, no file)
                            the whole database is read, and the result's `scope` says why

The database URI (with the database's name) comes from MEESHY_PRISMA_DATABASE_URL, never a
command line. With --image the program runs in a throw-away container of that image (its
entrypoint replaced by `node`), with the client the image carries at --client-path (the real
gateway image's: PATH_IN_GATEWAY_IMAGE). stdout: one line per model for people, then the result
as one JSON object {prisma, documents, refused, unexamined, models, refusals, seconds};
refusals name model, field, Prisma's error code and a count, never a value.
Exit 0: every document read; 3: Prisma refused documents (one sentence per model and field on
stderr); 1: the read failed or passed its deadline; 2: bad usage.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from steps.protocol import print_result

DATABASE_URL_ENV = "MEESHY_PRISMA_DATABASE_URL"
READER = Path(__file__).with_name("prisma_read.js")
# Where the real gateway image keeps its generated client (with its engine beside index.js):
# services/gateway/Dockerfile generates it at packages/shared/prisma/client under WORKDIR /app,
# and @prisma/client's runtime is in /app/node_modules.
PATH_IN_GATEWAY_IMAGE = "/app/packages/shared/prisma/client"
_PASSED = ("DATABASE_URL", "MEESHY_PRISMA_CLIENT", "MEESHY_PRISMA_MODELS")


def node_command(args) -> list[str]:
    """The command line that runs the reader on stdin; values travel in the environment."""
    if not args.image:
        return ["node", "-"]
    cmd = ["docker", *(["--host", args.docker_host] if args.docker_host else []), "run", "--rm",
           "-i", "--name", args.container_name, "--entrypoint", "node"]
    if args.network:
        cmd += ["--network", args.network]
    for name in _PASSED:
        cmd += ["--env", name]             # the value comes from our environment
    return [*cmd, args.image, "-"]


def program(written: dict | None) -> str:
    """The reader, after the line that hands it the written ids (stdin has no size limit)."""
    preamble = "" if written is None else f"globalThis.MEESHY_WRITTEN = {json.dumps(written)};\n"
    return preamble + READER.read_text()


def summarize(lines: list[dict]) -> dict:
    if not lines or "prisma" not in lines[-1]:
        raise ValueError("the reader printed no summary")
    models = {line["model"]: {key: line[key] for key in ("read", "refused", "unexamined", "seconds")}
              for line in lines[:-1]}
    refusals = [{"model": line["model"], **refusal} for line in lines[:-1]
                for refusal in line["refusals"]]
    return {**lines[-1], "models": models, "refusals": refusals,
            "ok": lines[-1]["refused"] == 0 and lines[-1]["unexamined"] == 0}


def refusal_sentences(result: dict) -> list[str]:
    return [f"Prisma Client {result['prisma']} refused {r['count']} document(s) of model "
            f"{r['model']}: field {r['field']} ({r['code']})" for r in result["refusals"]]


def written_scope(report_path: str | None) -> tuple[dict | None, dict]:
    """({collection: [id tokens]} to read, or None for the whole database; why, for the result)."""
    if not report_path:
        return None, {"kind": "database"}
    try:
        written = json.loads(Path(report_path).read_text()).get("written")
    except (OSError, ValueError) as error:
        return None, {"kind": "database", "why": f"{report_path}: {type(error).__name__}"}
    if not isinstance(written, dict) or not written.get("complete"):
        return None, {"kind": "database", "why": f"{report_path} lists no complete set of writes"}
    return written.get("ids") or {}, {"kind": "written"}


def run(args, database_url: str) -> tuple[int, dict | None, str]:
    env = {**os.environ, "DATABASE_URL": database_url,
           "MEESHY_PRISMA_CLIENT": args.client or args.client_path,
           "MEESHY_PRISMA_MODELS": args.models or ""}
    try:
        done = subprocess.run(node_command(args), input=program(args.written_ids), env=env,
                              capture_output=True, text=True, timeout=args.deadline)
    except subprocess.TimeoutExpired:
        if args.image:   # the CLI is gone; its container may still run
            subprocess.run(["docker", *(["--host", args.docker_host] if args.docker_host else []),
                            "rm", "-f", args.container_name], capture_output=True, timeout=60)
        return 1, None, f"the Prisma read did not finish within {args.deadline:g}s"
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0:
        # docker's own last line is only "See 'docker run --help'": keep the lines before it.
        return 1, None, " | ".join(done.stderr.strip().splitlines()[-3:]) or "no message"
    return 0, summarize(lines), ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m steps.prisma_read", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--client", help="a generated client's directory on this host")
    where.add_argument("--image", help="an application image that carries its client")
    parser.add_argument("--client-path", default=PATH_IN_GATEWAY_IMAGE)
    parser.add_argument("--network")
    parser.add_argument("--docker-host")
    parser.add_argument("--models", help="comma-separated model names (default: all)")
    parser.add_argument("--deadline", type=float, default=600.0, help="seconds")
    parser.add_argument("--written", metavar="REPORT", help="a migration pass's JSON report")
    args = parser.parse_args(argv)
    database_url = os.environ.get(DATABASE_URL_ENV)
    if not database_url:
        parser.error(f"{DATABASE_URL_ENV} is not set (mongodb://HOST:PORT/DATABASE)")
    if args.client and not (Path(args.client) / "index.js").is_file():
        parser.error(f"--client {args.client}: no generated client there (index.js)")
    args.container_name = f"meeshy-prisma-read-{uuid.uuid4().hex[:12]}"
    args.written_ids, scope = written_scope(args.written)
    started = time.monotonic()
    code, result, problem = run(args, database_url)
    if result is None:
        print(f"error: {problem}", file=sys.stderr)
        return code
    result["scope"] = {**scope, **result.get("scope", {})}
    for name, model in result["models"].items():
        print(f"{name}: {model['read']} read, {model['refused']} refused in {model['seconds']:.2f}s")
    for sentence in refusal_sentences(result):
        print(sentence, file=sys.stderr)
    if result["unexamined"]:
        print(f"{result['unexamined']} document(s) not examined after too many refusals",
              file=sys.stderr)
    print_result({**result, "elapsedSeconds": round(time.monotonic() - started, 3)})
    return 0 if result["ok"] else 3


if __name__ == "__main__":
    sys.exit(main())
