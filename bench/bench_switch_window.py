"""Switch window benchmark: what the delta phase costs inside the write-unavailability window,
the old way (full backup under maintenance, then the delta pass) against the new one (a
fingerprint of the frozen legacy database read while the delta pass runs, the archive after
the window), measured side by side on one FerretDB in one run.

    $MEESHY_VENV/bin/python bench/bench_switch_window.py [--scale 1] [--writes 300]

For the scale it generates the legacy dataset (about 125k documents at scale 1), runs the
pre-copy (`migration run --live-source`, outside the window) into two identical targets, adds
`--writes` messages to the legacy database (the traffic between the pre-copy and maintenance),
then times:
  old       full backup (mongodump --archive --gzip + manifest, ops/backup_run.py), then the
            strict delta pass into target A
  new       fingerprint (ops.digest.database_digests, what ops.data_check digests runs) on a
            thread, overlapping the strict delta pass into target B; the window waits for the
            delta pass only (the fingerprint runs on, awaited by a rollback or the archive)
  after     the archive the new way takes after the window, and whether its manifest equals
            the fingerprint (it must: nothing writes the legacy database once frozen)
The Pulumi update around the delta pass and the release phase are the same in both schemes
and not timed here (about 16 s each in the rehearsal at scale 1). Figures, never asserted.
"""
from __future__ import annotations

import argparse
import os
import pathlib
import subprocess
import sys
import tempfile
import threading
import time

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from migration.meeshy.sample_data import insert_legacy_dataset  # noqa: E402
from ops.backup_run import take_backup  # noqa: E402
from ops.digest import compare, database_digests  # noqa: E402
from tests.support.ferretdb import FerretDB, tools_dir  # noqa: E402

SEED = 1
LEGACY, TARGET_OLD, TARGET_NEW = "meeshy", "meeshy_v2_old", "meeshy_v2_new"


def timed(action) -> tuple[float, object]:
    started = time.monotonic()
    value = action()
    return time.monotonic() - started, value


def migrate(server, target: str, *extra: str) -> float:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    seconds, done = timed(lambda: subprocess.run(
        [sys.executable, "-m", "migration", "run", "--source", server.uri(LEGACY),
         "--target", server.uri(target), *extra], env=env, capture_output=True, text=True))
    if done.returncode != 0:
        raise SystemExit(f"migration into {target} failed (exit {done.returncode}):\n"
                         f"{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return seconds


def add_traffic(db, writes: int) -> None:
    """New messages, copies of existing ones under new ids: what users wrote after the pre-copy."""
    from bson import ObjectId
    models = list(db.Message.find({}).limit(writes))
    db.Message.insert_many([{**doc, "_id": ObjectId()} for doc in models])


def backup(server, folder: pathlib.Path, label: str) -> dict:
    dump = [str(tools_dir() / "bin" / "mongodump"), f"--uri={server.uri()}", f"--db={LEGACY}",
            "--archive", "--gzip"]
    return take_backup(folder, "bench", LEGACY, label, 5, dump, timeout=3600)


def overlapped(server, client) -> dict:
    """The new scheme: fingerprint on a thread while the delta pass runs."""
    found: dict = {}

    def fingerprint():
        found["seconds"], found["digests"] = timed(lambda: database_digests(client, LEGACY))
    thread = threading.Thread(target=fingerprint)
    started = time.monotonic()
    thread.start()
    delta = migrate(server, TARGET_NEW)
    thread.join()
    return {"wall": time.monotonic() - started, "delta": delta, **found}


def bench(server, scale: float, writes: int, folder: pathlib.Path) -> dict:
    client = server.client()
    generated, counts = timed(lambda: insert_legacy_dataset(client[LEGACY], seed=SEED, scale=scale))
    documents = sum(counts.values())
    print(f"x{scale:g}: {documents} legacy documents generated in {generated:.1f} s", flush=True)
    pre_copy = [migrate(server, target, "--live-source") for target in (TARGET_OLD, TARGET_NEW)]
    print(f"x{scale:g}: pre-copy (outside the window) {pre_copy[0]:.1f} s", flush=True)
    add_traffic(client[LEGACY], writes)
    old_backup, _ = timed(lambda: backup(server, folder, "old-in-window"))
    old_delta = migrate(server, TARGET_OLD)
    print(f"x{scale:g}: old: backup {old_backup:.1f} s + delta {old_delta:.1f} s", flush=True)
    new = overlapped(server, client)
    print(f"x{scale:g}: new: fingerprint {new['seconds']:.1f} s || delta {new['delta']:.1f} s "
          f"= {new['wall']:.1f} s", flush=True)
    after, archived = timed(lambda: backup(server, folder, "after-window"))
    equal = not compare(new["digests"], archived["collections"])
    client.close()
    return {"scale": scale, "documents": documents, "writes": writes,
            "old_backup": old_backup, "old_delta": old_delta, "old": old_backup + old_delta,
            "fingerprint": new["seconds"], "new_delta": new["delta"], "new": new["delta"],
            "new_wall": new["wall"],
            "after": after, "equal": equal}


def print_table(r: dict) -> None:
    print()
    print(f"delta phase inside the window, x{r['scale']:g} ({r['documents']} documents, "
          f"{r['writes']} writes after the pre-copy):")
    print(f"{'scheme':<8} {'backup s':>9} {'fingerprint s':>14} {'delta s':>8} {'in window s':>12}")
    print(f"{'old':<8} {r['old_backup']:>9.1f} {'-':>14} {r['old_delta']:>8.1f} {r['old']:>12.1f}")
    print(f"{'new':<8} {'-':>9} {r['fingerprint']:>14.1f} {r['new_delta']:>8.1f} {r['new']:>12.1f}"
          f"  (fingerprint done {r['new_wall']:.1f} s after the delta started)")
    print(f"old / new in the window: {r['old'] / r['new']:.2f}; full backup / fingerprint: "
          f"{r['old_backup'] / r['fingerprint']:.2f}")
    print(f"after the window (new): archive {r['after']:.1f} s, equal to the fingerprint: "
          f"{'yes' if r['equal'] else 'NO'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="dataset scale (default 1)")
    parser.add_argument("--writes", type=int, default=300,
                        help="messages written between the pre-copy and maintenance")
    args = parser.parse_args()
    with FerretDB() as server, tempfile.TemporaryDirectory() as folder:
        print(f"FerretDB on {server.uri()}; machine load {os.getloadavg()[0]:.1f}", flush=True)
        print_table(bench(server, args.scale, args.writes, pathlib.Path(folder)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
