"""Switch window benchmark: what the delta phase costs inside the write-unavailability window,
the old way (full backup under maintenance, then the delta pass) against the new one (the delta
pass alone; the frozen legacy database fingerprinted and archived once the window closed),
measured side by side on one FerretDB in one run.

    $MEESHY_VENV/bin/python bench/bench_switch_window.py [--scale 1] [--writes 300]

For the scale it generates the legacy dataset (about 125k documents at scale 1), runs the
pre-copy (`migration run --live-source`, outside the window) into two identical targets, adds
`--writes` messages to the legacy database (the traffic between the pre-copy and maintenance),
then times:
  old       full backup (mongodump --archive --gzip + manifest, steps/backup_run.py), then the
            strict delta pass into target A
  new       the strict delta pass into target B
  after     the new way's work once the window closed: the fingerprint (steps.digest, what
            steps.data_check digests runs), then the archive, and whether the archive's manifest
            equals the fingerprint (it must: nothing writes the legacy database once frozen)
The Pulumi update around the delta pass, the baseline and the release phase are the same in
both schemes and not timed here (about 16 s per update in the rehearsal at scale 1). Figures,
never asserted.
"""
from __future__ import annotations

import argparse
import os
import pathlib
import subprocess
import sys
import tempfile
import time

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from legacy_data.dataset import insert_legacy_dataset  # noqa: E402
from steps.backup_run import take_backup  # noqa: E402
from steps.digest import compare, database_digests  # noqa: E402
from testing.ferretdb import FerretDB, tools_dir  # noqa: E402

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
    new_delta = migrate(server, TARGET_NEW)
    print(f"x{scale:g}: new: delta {new_delta:.1f} s", flush=True)
    fingerprint, digests = timed(lambda: database_digests(client, LEGACY))
    after, archived = timed(lambda: backup(server, folder, "after-window"))
    equal = not compare(digests, archived["collections"])
    client.close()
    return {"scale": scale, "documents": documents, "writes": writes,
            "old_backup": old_backup, "old_delta": old_delta, "old": old_backup + old_delta,
            "new": new_delta, "fingerprint": fingerprint, "after": after, "equal": equal}


def print_table(r: dict) -> None:
    print()
    print(f"delta phase inside the window, x{r['scale']:g} ({r['documents']} documents, "
          f"{r['writes']} writes after the pre-copy):")
    print(f"{'scheme':<6} {'backup s':>9} {'delta s':>8} {'in window s':>12} "
          f"{'fingerprint s':>14} {'archive s':>10} {'after window s':>15}")
    print(f"{'old':<6} {r['old_backup']:>9.1f} {r['old_delta']:>8.1f} {r['old']:>12.1f} "
          f"{'-':>14} {'-':>10} {'-':>15}")
    print(f"{'new':<6} {'-':>9} {r['new']:>8.1f} {r['new']:>12.1f} {r['fingerprint']:>14.1f} "
          f"{r['after']:>10.1f} {r['fingerprint'] + r['after']:>15.1f}")
    print(f"old / new inside the window: {r['old'] / r['new']:.2f}; the full backup was "
          f"{r['old_backup'] / r['old']:.0%} of the old in-window time")
    print(f"archive after the window equal to the fingerprint: {'yes' if r['equal'] else 'NO'}")


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
