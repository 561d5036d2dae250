"""Prisma read benchmark: every document of a migrated target read by the real client (Prisma
Client 6.19 generated from the target schema with the query engine built here,
steps/prisma_read.js: one findMany per model, every scalar, enum and composite field) against a
plain pymongo read of the same collections, side by side on one FerretDB in one run.

    $MEESHY_VENV/bin/python bench/bench_prisma_read.py --scale 1 --scale 10 [--decision notifications=migrate]
        [--compare-engine LIBRARY]

For each scale it generates the legacy dataset, migrates it (`migration run`, the operators'
decisions unless --decision says otherwise), then times the Prisma read and the pymongo read
(every document of every collection a model of the schema names, decoded) and prints both,
their ratio, and the documents Prisma refused. --compare-engine reads the same target a second
time with the same client carrying another query engine library (e.g. one built with another
cargo profile), and prints that read and its ratio to the first. Figures, never asserted.
"""
from __future__ import annotations

import argparse
import os
import pathlib
import shutil
import subprocess
import sys
import time

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from legacy_data.dataset import insert_legacy_dataset  # noqa: E402
from migration.engine.validation.schema import load_schema  # noqa: E402
from migration.meeshy import SCHEMA_PATH  # noqa: E402
from testing.ferretdb import FerretDB  # noqa: E402
from testing.prisma import generate_client, read_database  # noqa: E402

SEED = 1


def migrate(server, source: str, target: str, decisions: list[str]) -> float:
    extra = [arg for decision in decisions for arg in ("--decision", decision)]
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "migration", "run", "--source", server.uri(source),
                           "--target", server.uri(target), *extra], cwd=REPO_ROOT,
                          env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)),
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"migration into {target} failed (exit {done.returncode}):\n"
                         f"{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return time.monotonic() - started


def pymongo_read(db) -> tuple[float, int]:
    """Every document of every model's collection, decoded: what any reader pays at least."""
    started, documents = time.monotonic(), 0
    for model in load_schema(SCHEMA_PATH).models.values():
        documents += sum(1 for _ in db[model.collection].find({}, batch_size=2000))
    return time.monotonic() - started, documents


def timed_read(client_dir: pathlib.Path, uri: str):
    started = time.monotonic()
    read = read_database(client_dir, uri, deadline=7200)
    if read.result is None:
        raise SystemExit(f"the Prisma read failed: {read.stderr[-2000:]}")
    return time.monotonic() - started, read


def client_with_engine(client_dir: pathlib.Path, library: pathlib.Path) -> pathlib.Path:
    """A copy of the generated client whose query engine is `library`: the runtime it requires
    (@prisma/client in the node_modules beside the clients) is found from the same parent."""
    copy = client_dir.parent / f"{client_dir.name}-engine-{os.getpid()}"
    shutil.copytree(client_dir, copy)
    for engine in copy.glob("libquery_engine-*.so.node"):
        shutil.copy2(library, engine)
    return copy


def bench(server, client_dir: pathlib.Path, scale: float, decisions: list[str],
          other_client: pathlib.Path | None = None) -> dict:
    client = server.client()
    source, target = f"legacy_x{scale:g}", f"target_x{scale:g}"
    counts = insert_legacy_dataset(client[source], seed=SEED, scale=scale)
    print(f"x{scale:g}: {sum(counts.values())} legacy documents", flush=True)
    migrated = migrate(server, source, target, decisions)
    print(f"x{scale:g}: migrated in {migrated:.1f} s", flush=True)
    raw_seconds, raw_documents = pymongo_read(client[target])
    prisma_seconds, read = timed_read(client_dir, server.uri(target))
    other = None
    if other_client is not None:
        other = timed_read(other_client, server.uri(target))[0]
        print(f"x{scale:g}: the same read with the other engine in {other:.1f} s; "
              f"that/built {other / prisma_seconds:.2f}", flush=True)
    slowest = sorted(read.result["models"].items(), key=lambda kv: -kv[1]["seconds"])[:3]
    print(f"x{scale:g}: Prisma Client {read.result['prisma']} read {read.result['documents']} "
          f"documents in {prisma_seconds:.1f} s ({read.result['refused']} refused; slowest: "
          + ", ".join(f"{name} {m['read']} in {m['seconds']:.1f} s" for name, m in slowest) + ")")
    print(f"x{scale:g}: pymongo read {raw_documents} documents in {raw_seconds:.1f} s; "
          f"prisma/pymongo {prisma_seconds / raw_seconds:.2f}", flush=True)
    client.drop_database(source)
    client.drop_database(target)
    client.close()
    return {"scale": scale, "documents": read.result["documents"], "prisma": prisma_seconds,
            "pymongo": raw_seconds, "refused": read.result["refused"], "other": other}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, action="append")
    parser.add_argument("--decision", action="append", default=[])
    parser.add_argument("--compare-engine", type=pathlib.Path, metavar="LIBRARY")
    args = parser.parse_args()
    client_dir = generate_client(SCHEMA_PATH)
    rows = []
    with FerretDB() as server:
        other = client_with_engine(client_dir, args.compare_engine) if args.compare_engine else None
        try:
            for scale in args.scale or [1.0]:
                rows.append(bench(server, client_dir, scale, args.decision, other))
        finally:
            if other is not None:
                shutil.rmtree(other, ignore_errors=True)
    print("\n| scale | documents | Prisma Client | pymongo | prisma/pymongo | refused | other engine |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        that = f"{row['other']:.1f} s ({row['other'] / row['prisma']:.2f})" if row["other"] else "-"
        print(f"| x{row['scale']:g} | {row['documents']:,} | {row['prisma']:.1f} s | "
              f"{row['pymongo']:.1f} s | {row['prisma'] / row['pymongo']:.2f} | {row['refused']} | "
              f"{that} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
