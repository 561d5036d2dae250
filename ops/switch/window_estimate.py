"""What `preview` says the switch's window will be, and what the figure rests on.

A reference switch gives each phase of its window (from the start of the phase turning
maintenance on to maintenance-off's end) its measured time: the latest rehearsal's report
(`./meeshy rehearse`, which also measured the clients' own window) or this stack's own last
switch in ops' ledger. The steps whose work follows the data (the delta pass compares every
source document with the pre-copy, a backup under maintenance dumps them all) are scaled
linearly by the documents production holds against the reference's; the rest of each phase
(engine, container swaps, health gate) is taken as measured.
Pure: the caller reads the sources.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

# maintenance-on and delta-migration: phases of their own in the reports of switches before
# they merged into the next.
WINDOW_PHASES = ("maintenance-on", "backup", "delta-migration", "release", "maintenance-off")
# The steps whose work follows the data (a phase's `steps`): the delta pass, a backup under
# maintenance. A phase that recorded none is scaled whole when it is one of SCALED_PHASES.
DATA_STEPS = ("migration", "backup")
SCALED_PHASES = ("backup", "delta-migration")


@dataclass(frozen=True)
class Reference:
    source: str                  # what it is, said in the sentence
    documents: int | None        # source documents the reference's data held
    phases: dict[str, float]     # the window's phases, seconds as measured
    window: float | None         # the switch's window as measured
    client: float | None = None  # the clients' window as the reference's load measured it
    data: dict[str, float] = field(default_factory=dict)   # each phase's data-bound seconds


def _documents(switch: dict) -> int | None:
    summary = ((switch.get("migration") or {}).get("backup-and-migrate") or {}).get("summary") or {}
    documents = (summary.get("totals") or {}).get("documents")
    return documents if isinstance(documents, int) and documents > 0 else None


def from_switch(switch: dict, source: str, documents: int | None = None) -> Reference | None:
    """A succeeded switch report (ops/switch/run.py) as a reference; None for any other."""
    if switch.get("result") != "succeeded":
        return None
    window_phases = [p for p in switch.get("phases") or []
                     if p.get("name") in WINDOW_PHASES and p.get("ok")]
    phases = {p["name"]: float(p["seconds"]) for p in window_phases}
    if "release" not in phases:
        return None
    window = (switch.get("writeUnavailability") or {}).get("seconds")
    return Reference(source, documents or _documents(switch), phases, window,
                     data={p["name"]: _data_seconds(p) for p in window_phases})


def _data_seconds(phase: dict) -> float:
    steps = phase.get("steps") or {}
    timed = [float(steps[name]) for name in DATA_STEPS if isinstance(steps.get(name), (int, float))]
    if timed:
        return min(float(phase["seconds"]), sum(timed))
    return float(phase["seconds"]) if phase["name"] in SCALED_PHASES else 0.0


def from_rehearsal(report: dict, path: Path) -> Reference | None:
    """The switch of a rehearsal report (ops/rehearse/report.py), with its clients' window."""
    reference = from_switch(report.get("switch") or {}, f"rehearsal {report.get('id')} at scale "
                            f"{report.get('scale')} ({path}, {report.get('started')})",
                            (report.get("dataset") or {}).get("documents"))
    if reference is None:
        return None
    client = (report.get("window") or {}).get("client")
    return Reference(reference.source, reference.documents, reference.phases, reference.window,
                     client, reference.data)


def read_rehearsal(path: Path) -> Reference | None:
    try:
        return from_rehearsal(json.loads(Path(path).read_text()), Path(path))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def estimate(reference: Reference | None, documents: int | None, budget_seconds: float) -> dict:
    """The expected window for `documents`, phase by phase, and the sentence it rests on."""
    if reference is None:
        return {"seconds": None, "restsOn": "no reference switch: run `./meeshy rehearse` (its "
                "report in ./rehearsal is read) or pass --timings REPORT"}
    factor = documents / reference.documents if documents and reference.documents else None
    data = reference.data
    phases = {name: round(seconds + data.get(name, 0.0) * ((factor or 1.0) - 1.0), 1)
              for name, seconds in reference.phases.items()}
    seconds = round(sum(phases.values()), 1)
    scaled_names = [name for name in phases if data.get(name)]
    scaled = (f"the data steps (delta pass, backup) of {', '.join(scaled_names)} scaled by {documents:,} / "
              f"{reference.documents:,} documents (x{factor:.2f}), the rest as measured"
              if factor else "not scaled: " + ("production's document count is unknown (no "
                                               "migration dry run)" if not documents else
                                               "the reference's document count is unknown"))
    out = {"seconds": seconds, "phases": phases, "withinBudget": seconds <= budget_seconds,
           "budgetSeconds": budget_seconds, "reference": reference.source, "factor": factor,
           "restsOn": f"{reference.source}: {scaled}"}
    if reference.client is not None and reference.window:
        # The clients' share of the switch's window, as the reference's load measured it.
        out["client"] = round(seconds * min(1.0, reference.client / reference.window), 1)
    return out


def sentence(found: dict) -> str:
    if found.get("seconds") is None:
        return f"expected window: unknown ({found['restsOn']})"
    client = f", about {found['client']:.0f} s of it seen by clients" if "client" in found else ""
    verdict = "within" if found["withinBudget"] else "OVER"
    return (f"expected window: {found['seconds']:.0f} s{client} ({verdict} the "
            f"{found['budgetSeconds']:.0f} s budget); rests on {found['restsOn']}")
