"""The whole switch window at several data sizes, as the clients saw it and as the switch measured
it, side by side in one run: one `./meeshy rehearse --stop-after switch` per scale (the steps up
to the switch under load, then teardown), on the local engine with the local images.

    $MEESHY_VENV/bin/python bench/bench_rehearsal_window.py [--scales 1 10] [--report DIR]
                                                            [--gateway meeshy|stand-in]

Per scale: the legacy documents, the clients' window (the rehearsal's load: first write not
taken to the first taken after the last one), the switch's window (the release's start,
where maintenance goes on, to maintenance-off's end), each of its phases and the engine's own
part of it (timeline), the writes refused and failed in the switch; then how each figure grows
from the smallest scale to each larger one, against the growth of the data.
Figures, not a test: nothing is asserted. Each rehearsal's own report stays under DIR/xSCALE.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
WINDOW_PHASES = ("release", "maintenance-off")


def rehearse(scale: float, folder: Path, gateway: str = "meeshy") -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    clock = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "ops", "rehearse", "--scale", f"{scale:g}",
                           "--stop-after", "switch", "--gateway", gateway,
                           "--report", str(folder)], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=6 * 3600)
    path = folder / "rehearsal-report.json"
    if not path.is_file():
        raise SystemExit(f"rehearse --scale {scale:g} wrote no report (exit {done.returncode}):\n"
                         f"{done.stderr[-2000:]}")
    report = json.loads(path.read_text())
    switch = report.get("switch") or {}
    writes = (report.get("writes") or {}).get("byStep", {}).get("switch under load") or {}
    return {"scale": scale, "result": report["result"], "seconds": time.monotonic() - clock,
            "documents": (report.get("dataset") or {}).get("documents") or 0,
            "client": (report.get("window") or {}).get("client"),
            "switch": (report.get("window") or {}).get("switch"),
            "phases": {p["name"]: p["seconds"] for p in switch.get("phases") or []},
            "engine": {p["name"]: engine_seconds(p) for p in switch.get("phases") or []},
            "refused": writes.get("refused"), "failed": writes.get("failed"),
            "failedReasons": writes.get("failedReasons")}


def engine_seconds(phase: dict) -> float | None:
    """The part of a phase that is the engine's own (its start and tail: the program, plugins,
    policy pack, state), from the phase's timeline; None without one."""
    timeline = phase.get("timeline")
    return None if timeline is None else timeline["engineStart"] + timeline["tail"]


def print_table(rows: list[dict]) -> None:
    print(f"\n{'scale':>6} {'documents':>10} {'client s':>9} {'switch s':>9} "
          + " ".join(f"{p[:14]:>14}" for p in WINDOW_PHASES) + f" {'refused':>8} {'failed':>7}")
    for r in rows:
        print(f"{r['scale']:>6g} {r['documents']:>10,} {r['client'] or 0:>9.1f} {r['switch'] or 0:>9.1f} "
              + " ".join(f"{r['phases'].get(p, 0):>14.1f}" for p in WINDOW_PHASES)
              + f" {r['refused']!s:>8} {r['failed']!s:>7}  ({r['result']}, {r['seconds']:.0f} s)")
    print("the engine's own seconds in each (its start and tail; the rest is the phase's steps):")
    for r in rows:
        print(f"{r['scale']:>6g} {'':>10} {'':>9} {'':>9} "
              + " ".join(f"{r['engine'].get(p) or 0:>14.1f}" for p in WINDOW_PHASES))
    base = rows[0]
    for r in rows[1:]:
        data = r["documents"] / max(base["documents"], 1)
        growth = {k: (r[k] or 0) / base[k] if base[k] else float("nan") for k in ("client", "switch")}
        phases = ", ".join(f"{p} x{r['phases'].get(p, 0) / base['phases'][p]:.2f}"
                           for p in WINDOW_PHASES if base["phases"].get(p))
        print(f"x{r['scale']:g} against x{base['scale']:g}: data x{data:.2f}; client window "
              f"x{growth['client']:.2f}, switch window x{growth['switch']:.2f}; {phases}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 10.0])
    parser.add_argument("--report", type=Path, default=Path("rehearsal-bench"))
    parser.add_argument("--gateway", choices=("meeshy", "stand-in"), default="meeshy",
                        help="the target release's gateway (rehearse --gateway)")
    args = parser.parse_args()
    print(f"machine load {os.getloadavg()[0]:.1f}; scales {args.scales}", flush=True)
    rows = []
    for scale in sorted(args.scales):
        rows.append(rehearse(scale, args.report / f"x{scale:g}", args.gateway))
        print(f"x{scale:g}: {rows[-1]['result']}, client window {rows[-1]['client']} s, switch "
              f"window {rows[-1]['switch']} s", flush=True)
    print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
