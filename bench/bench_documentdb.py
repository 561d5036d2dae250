"""DocumentDB against FerretDB: the migration and the delta pass on each server, the same
generated data, one run.

    $MEESHY_VENV/bin/python bench/bench_documentdb.py [--scale 0.1] [--writes 300]

On each server in turn (a throwaway FerretDB, testing/ferretdb.py; a DocumentDB container of the
local image, testing/documentdb.py) it generates the legacy dataset with the same seed and scale,
then times:
  migration  the full pre-copy (`migration run --live-source`) into an empty target
  delta      after `--writes` new messages in the legacy database, the strict delta pass
             (`migration run` into the same target: what the switch runs in its window)
and prints both servers' figures with documentdb / ferretdb ratios. Figures, never asserted.
"""
from __future__ import annotations

import argparse
import os
import sys

from bench_switch_window import LEGACY, REPO_ROOT, SEED, add_traffic, migrate, timed

sys.path.insert(0, str(REPO_ROOT))

from legacy_data.dataset import insert_legacy_dataset  # noqa: E402
from testing.documentdb import DocumentDB  # noqa: E402
from testing.ferretdb import FerretDB  # noqa: E402

TARGET = "meeshy_v2"
SERVERS = {"ferretdb": FerretDB, "documentdb": DocumentDB}


def bench(name: str, server, scale: float, writes: int) -> dict:
    client = server.client()
    generated, counts = timed(lambda: insert_legacy_dataset(client[LEGACY], seed=SEED, scale=scale))
    documents = sum(counts.values())
    print(f"{name}: {documents} legacy documents generated in {generated:.1f} s", flush=True)
    migration = migrate(server, TARGET, "--live-source")
    print(f"{name}: migration {migration:.1f} s", flush=True)
    add_traffic(client[LEGACY], writes)
    delta = migrate(server, TARGET)
    print(f"{name}: delta pass {delta:.1f} s", flush=True)
    migrated = sum(client[TARGET][c].estimated_document_count()
                   for c in client[TARGET].list_collection_names())
    client.close()
    return {"documents": documents, "generate": generated, "migration": migration,
            "delta": delta, "migrated": migrated}


def print_table(scale: float, writes: int, found: dict[str, dict]) -> None:
    ferret, docdb = found["ferretdb"], found["documentdb"]
    print()
    print(f"x{scale:g}, {ferret['documents']} legacy documents, {writes} writes before the delta:")
    print(f"{'server':<11} {'generate s':>11} {'migration s':>12} {'delta s':>8} {'target docs':>12}")
    for name, r in found.items():
        print(f"{name:<11} {r['generate']:>11.1f} {r['migration']:>12.1f} {r['delta']:>8.1f} "
              f"{r['migrated']:>12}")
    print(f"documentdb / ferretdb: generate {docdb['generate'] / ferret['generate']:.2f}, "
          f"migration {docdb['migration'] / ferret['migration']:.2f}, "
          f"delta {docdb['delta'] / ferret['delta']:.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.1, help="dataset scale (default 0.1)")
    parser.add_argument("--writes", type=int, default=300,
                        help="messages written between the migration and the delta pass")
    args = parser.parse_args()
    found = {}
    for name, kind in SERVERS.items():
        with kind() as server:
            print(f"{name} started; machine load {os.getloadavg()[0]:.1f}", flush=True)
            found[name] = bench(name, server, args.scale, args.writes)
    print_table(args.scale, args.writes, found)
    return 0


if __name__ == "__main__":
    sys.exit(main())
