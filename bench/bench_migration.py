"""Migration benchmark: docs/s, peak memory, and two ratios measured on the same FerretDB.

    $MEESHY_VENV/bin/python bench/bench_migration.py [--scale 1 --scale 10]

For each scale it generates the legacy dataset (legacy_data/dataset.py, about 125k
documents at scale 1), then times, each in its own subprocess so peak memory (ru_maxrss from
wait4) is that process's alone:
  ours      `python -m migration run` into an empty target (migrate + indexes + verify)
  raw copy  every source collection copied with find() + insert_many(1000), no transform
  per-doc   the original plan's way: the same transforms, then one insert_one per document
  read-back one plain read of every target collection: the least any verification that looks
            at the stored documents can cost (ours' verify reads each collection once)
Goals: ours / raw copy <= 2.0; per-doc / ours >= 20; peak memory flat from x1 to x10.
per-doc / raw copy is printed beside per-doc / ours: no migration that writes every document
can beat the raw copy, so per-doc / raw is the most per-doc / ours can be on this server.
Figures are printed, never asserted: speed goals are not tests.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from legacy_data.dataset import insert_legacy_dataset  # noqa: E402
from testing.ferretdb import FerretDB  # noqa: E402

SEED = 1

RAW_COPY = """
import sys, itertools, pymongo
client = pymongo.MongoClient(sys.argv[1])
source, target = client[sys.argv[2]], client[sys.argv[3]]
for name in source.list_collection_names():
    cursor = source[name].find({}, batch_size=1000)
    while batch := list(itertools.islice(cursor, 1000)):
        target[name].insert_many(batch, ordered=False)
"""

READ_BACK = """
import sys, pymongo
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument
db = pymongo.MongoClient(sys.argv[1])[sys.argv[2]]
raw = CodecOptions(document_class=RawBSONDocument)
print(sum(1 for name in db.list_collection_names() if not name.startswith("_migrations")
          for _ in db[name].with_options(codec_options=raw).find({}, batch_size=1000)))
"""

PER_DOCUMENT = """
import sys, pymongo
from migration.engine.chain import load_chain
from migration.engine.process import Processor
from migration.engine.validation.schema import load_schema
from migration.engine.sources import ChildMerger, build_lookup
from migration.engine.validation.validator import Validator
from migration.engine.model import CollectionRule
client = pymongo.MongoClient(sys.argv[1])
source, target = client[sys.argv[2]], client[sys.argv[3]]
limit = int(sys.argv[4])
chain = load_chain("migration.meeshy")
validator = Validator(load_schema(chain.schema_path))
done = 0
for rule in chain.rules():
    if not isinstance(rule, CollectionRule):
        continue
    lookups = {lk.name: build_lookup(source, lk) for lk in rule.lookups}
    processor = Processor(rule, validator, lookups)
    mergers = {c.name: ChildMerger(source, c) for c in rule.children}
    for doc in source[rule.source].find({}, sort=[("_id", 1)]):
        result = processor.process(doc, {n: m.take(doc["_id"]) for n, m in mergers.items()})
        for collection, _, raw in result.writes:
            try:
                target[collection].insert_one(raw)
            except pymongo.errors.DuplicateKeyError:  # a shared placeholder written before
                target[collection].replace_one({"_id": raw["_id"]}, raw)
        done += 1
        if limit and done >= limit:
            print(done); sys.exit(0)
print(done)
"""


KEEP_REPORTS = None  # a directory for each run's JSON report (--keep-report), or None


def measured(argv, env=None) -> dict:
    """Runs argv, returns wall seconds, peak RSS (MiB) of that process, exit code, output."""
    with tempfile.TemporaryFile() as out:
        started = time.monotonic()
        process = subprocess.Popen(argv, cwd=REPO_ROOT, env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.monotonic() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        output = out.read().decode(errors="replace")
    return {"seconds": seconds, "peak_mib": usage.ru_maxrss / 1024,
            "exit": process.returncode, "output": output}


def bench_scale(server, scale: float, per_doc_limit: int, with_rerun: bool, options=()) -> dict:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    client = server.client()
    tag = str(scale).replace(".", "_")
    legacy, ours_db, raw_db, per_doc_db = (f"legacy_x{tag}", f"ours_x{tag}", f"raw_x{tag}",
                                           f"perdoc_x{tag}")
    started = time.monotonic()
    counts = insert_legacy_dataset(client[legacy], seed=SEED, scale=scale)
    documents = sum(counts.values())
    print(f"x{scale}: generated {documents} legacy documents in "
          f"{time.monotonic() - started:.1f} s", flush=True)

    raw = measured([sys.executable, "-c", RAW_COPY, server.uri(), legacy, raw_db], env)
    print(f"x{scale}: raw copy {raw['seconds']:.1f} s", flush=True)

    report_path = pathlib.Path(tempfile.mkstemp(suffix=".json")[1])
    ours = measured([sys.executable, "-m", "migration", "run", "--source", server.uri(legacy),
                     "--target", server.uri(ours_db), "--json", str(report_path), *options], env)
    if ours["exit"] != 0:
        raise SystemExit(f"migration run failed (exit {ours['exit']}):\n{ours['output'][-3000:]}")
    report = json.loads(report_path.read_text())
    if KEEP_REPORTS:  # the run's own report (per collection counts) beside the figures
        report_path.replace(KEEP_REPORTS / f"run_x{tag}.json")
    else:
        report_path.unlink()
    print(f"x{scale}: ours {ours['seconds']:.1f} s (migrate {report['migrate_seconds']:.1f} s, "
          f"verify {report['verify_seconds']:.1f} s), peak {ours['peak_mib']:.0f} MiB",
          flush=True)

    read_back = measured([sys.executable, "-c", READ_BACK, server.uri(), ours_db], env)
    print(f"x{scale}: one read of the target {read_back['seconds']:.1f} s "
          f"({read_back['output'].split()[-1]} documents)", flush=True)

    rerun = None
    if with_rerun:  # the delta path: same source again, nothing to write
        rerun = measured([sys.executable, "-m", "migration", "run", "--source",
                          server.uri(legacy), "--target", server.uri(ours_db), *options], env)["seconds"]
        print(f"x{scale}: re-run over the unchanged source {rerun:.1f} s", flush=True)

    per_doc = measured([sys.executable, "-c", PER_DOCUMENT, server.uri(), legacy, per_doc_db,
                        str(per_doc_limit)], env)
    if per_doc["exit"] != 0:
        raise SystemExit(f"per-document migration failed:\n{per_doc['output'][-3000:]}")
    per_doc_docs = int(per_doc["output"].split()[-1])
    # Without a limit this is the whole dataset; with one, the time is extrapolated linearly
    # (it is one round-trip per document, so it scales linearly by construction).
    per_doc_full = per_doc["seconds"] * documents / per_doc_docs
    print(f"x{scale}: per-document insert_one {per_doc['seconds']:.1f} s for {per_doc_docs} "
          f"documents ({per_doc_full:.1f} s for all)", flush=True)
    client.drop_database(raw_db)
    client.drop_database(per_doc_db)
    client.close()
    return {"scale": scale, "documents": documents, "ours": ours["seconds"],
            "migrate": report["migrate_seconds"], "verify": report["verify_seconds"],
            "peak_mib": ours["peak_mib"], "rerun": rerun,
            "raw": raw["seconds"], "raw_peak_mib": raw["peak_mib"],
            "read_back": read_back["seconds"],
            "per_doc": per_doc_full, "per_doc_measured_docs": per_doc_docs}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, action="append",
                        help="dataset scale (repeatable); default: 1 and 10")
    parser.add_argument("--per-doc-limit", type=int, default=0,
                        help="time the insert_one migration on this many documents only and "
                             "extrapolate (default: all of them)")
    parser.add_argument("--decision", action="append", default=[], metavar="NAME=VALUE",
                        help="passed to `migration run` (e.g. notifications=migrate, to compare "
                             "with figures taken before Notification was dropped by decision)")
    parser.add_argument("--keep-report", metavar="DIR", type=pathlib.Path,
                        help="keep each run's JSON report in DIR")
    args = parser.parse_args()
    global KEEP_REPORTS
    KEEP_REPORTS = args.keep_report
    options = [arg for item in args.decision for arg in ("--decision", item)]
    scales = args.scale or [1.0, 10.0]
    rows = []
    with FerretDB() as server:
        print(f"FerretDB on {server.uri()}; machine load {os.getloadavg()[0]:.1f}", flush=True)
        for scale in scales:
            rows.append(bench_scale(server, scale, args.per_doc_limit,
                                    with_rerun=scale == scales[0], options=options))
    print()
    print(f"{'scale':>6} {'docs':>9} {'ours s':>8} {'docs/s':>8} {'peak MiB':>9} "
          f"{'re-run s':>9} {'raw s':>7} {'ours/raw':>9} {'per-doc s':>10} {'perdoc/ours':>12}")
    for r in rows:
        print(f"x{r['scale']:<5g} {r['documents']:>9} {r['ours']:>8.1f} "
              f"{r['documents'] / r['ours']:>8.0f} {r['peak_mib']:>9.0f} "
              f"{r['rerun'] if r['rerun'] is not None else float('nan'):>9.1f} "
              f"{r['raw']:>7.1f} {r['ours'] / r['raw']:>9.2f} {r['per_doc']:>10.1f} "
              f"{r['per_doc'] / r['ours']:>12.1f}")
    for r in rows:
        print(f"x{r['scale']:g}: migrate only / raw copy = {r['migrate'] / r['raw']:.2f}; "
              f"verification {r['verify']:.1f} s against {r['read_back']:.1f} s for one plain "
              f"read of the target; raw copy peak {r['raw_peak_mib']:.0f} MiB")
        print(f"x{r['scale']:g}: per-doc / raw copy = {r['per_doc'] / r['raw']:.1f} (the most "
              f"per-doc / ours could reach here)")
    if len(rows) > 1:
        low, high = rows[0], rows[-1]
        print(f"peak memory x{high['scale']:g} / x{low['scale']:g}: "
              f"{high['peak_mib'] / low['peak_mib']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
