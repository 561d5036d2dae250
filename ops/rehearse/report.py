"""The rehearsal's report: a table on stdout, the JSON, and the picture (a timeline of the
switch's phases with the write-unavailability window shaded and the writes per second)."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from ops.rehearse.accounting import client_window

PICTURE = "rehearsal-timeline.png"
OUTCOME_COLOURS = {"acknowledged": "tab:green", "refused": "tab:orange", "failed": "tab:red"}


def epoch(iso: str) -> float:
    return dt.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def prisma_line(prisma: dict) -> str:
    """The release's read of the migrated data by the gateway image's own Prisma Client."""
    line = (f"read by Prisma Client {prisma.get('prisma')}: {prisma.get('documents')} documents, "
            f"{prisma.get('refused')} refused")
    refusals = ", ".join(f"{r['model']}.{r['field']} {r['code']} x{r['count']}"
                         for r in prisma.get("refusals") or [])
    return line + (f" ({refusals})" if refusals else "") + \
        f" in {round(prisma.get('seconds') or 0, 2)} s"


def timeline_line(timeline: dict, longest: int = 4) -> str:
    """Where a phase's update spent its time: the engine's start, its longest steps (at the
    second they began), the rest."""
    steps = sorted(timeline.get("steps") or [], key=lambda s: -s["seconds"])[:longest]
    named = ", ".join(f"{s['name']} {s['op']} {s['seconds']:.1f} s at {s['start']:.1f}"
                      for s in sorted(steps, key=lambda s: s["start"]))
    return (f"engine start {timeline.get('engineStart', 0):.1f} s"
            + (f"; {named}" if named else "") + f"; tail {timeline.get('tail', 0):.1f} s")


def table(report: dict) -> str:
    lines = [f"rehearsal {report['id']} at scale {report['scale']}: {report['result']} "
             f"in {report.get('seconds', 0):.1f} s  (production {report['stacks']['production']}, "
             f"staging {report['stacks']['staging']})", "", f"  {'step':<28} {'seconds':>8}  result"]
    for step in report["steps"]:
        lines.append(f"  {step['name']:<28} {step['seconds']:>8.1f}  {'ok' if step['ok'] else 'FAILED'}"
                     + (f"  {step['error']}" if step.get("error") else ""))
    switch = report.get("switch") or {}
    if switch.get("phases"):
        lines += ["", f"  switch phases ({switch.get('result')})"]
        for phase in switch["phases"]:
            steps = ", ".join(f"{k} {v:.1f} s" for k, v in (phase.get("steps") or {}).items())
            state = 'ok' if phase['ok'] else 'FAILED'
            lines.append(f"    {phase['name']:<26} {phase['seconds']:>8.1f}  {state}"
                         + (f"  ({steps})" if steps else ""))
            if phase.get("timeline"):
                lines.append(f"      {timeline_line(phase['timeline'])}")
        window = switch.get("writeUnavailability") or {}
        moved = switch.get("documentsMovedInWindow") or {}
        lines.append(f"    write-unavailability window {window.get('seconds', 0):.1f} s; the delta pass in "
                     f"it wrote {moved.get('written')} of {moved.get('documents')} documents read")
        for database, frozen in (switch.get("frozenBackups") or {}).items():
            lines.append(f"    after the window: archive of {database} {frozen.get('seconds', 0):.1f} s, "
                         f"equal to its fingerprint under maintenance: {frozen.get('equalsFingerprint')}")
        pre_copy = ((switch.get("migration") or {}).get("backup-and-migrate") or {}).get("summary") or {}
        if pre_copy.get("liveSource"):
            lines.append(f"    pre-copy on the live source: grew by {pre_copy.get('sourceGrowth')} "
                         f"after it read (carried by the delta pass)")
        passes = (switch.get("migration") or {}).items()
        verified = {name: (m.get("summary") or {}).get("ok") for name, m in passes}
        lines.append(f"    migration verified (counts and hashes): {verified}")
        pre_read = switch.get("prismaPreCopy")
        if pre_read:
            lines.append(f"    pre-copy {prisma_line(pre_read)} (outside the window)")
        prisma = (switch.get("schemaCheck") or {}).get("prisma")
        if prisma:
            scope = prisma.get("scope") or {}
            what = ("what the delta pass wrote" if scope.get("kind") == "written"
                    else "the whole database")
            lines.append(f"    release check {prisma_line(prisma)} ({what}, inside the window)")
    writes = report.get("writes") or {}
    if "acknowledged" in writes:
        window = report.get("window") or {}
        lines.append(f"  window: {window.get('client') or 0:.1f} s as the clients saw it (first write "
                     f"not taken to the first taken after the last one), "
                     f"{window.get('switch') or 0:.1f} s as the switch measured it")
        lines.append(f"  writes: {writes['acknowledged']} acknowledged, {writes['refused']} refused "
                     f"(503 + Retry-After), {writes['failed']} failed otherwise, {writes['lost']} lost; "
                     f"{writes.get('acknowledgedDuringPreCopy')} acknowledged during the pre-copy")
    lines += _steps_under_load(writes.get("byStep") or {})
    real = report.get("realApi")
    if real:    # only when the target release ran Meeshy's real gateway
        history = real.get("history") or {}
        read = (f"; its newest after the switch read back through its API: {history['served']} "
                f"(HTTP {history['status']}, {history.get('seconds', 0):.1f} s)"
                if history.get("checked") else "")
        lines.append(f"  real API (Meeshy's gateway): {real['acknowledged']} acknowledged, "
                     f"{real['found']} found by id{read}")
    plain = report.get("plainRelease")
    if plain:
        lines.append(f"  plain release (no migration, no maintenance) in {plain['seconds']:.1f} s: "
                     f"{plain['acknowledged']} acknowledged, {plain['refused']} refused, "
                     f"{plain['failed']} failed"
                     + (f" {plain['failedReasons']}" if plain['failedReasons'] else "") + "; "
                     f"replaced {', '.join(plain['replaced']) or 'nothing'}")
    failing = report.get("failingSwitch")
    if failing:
        lines.append(f"  failing switch: {failing.get('result')}, gate failed after "
                     f"{failing.get('detectSeconds')} s, rollback {failing.get('rollbackSeconds')} s, "
                     f"data hash-equal to its backup under maintenance {failing.get('hashEqual')}, "
                     f"images as before {failing.get('imagesEqual')}")
    back = report.get("rollbackTo")
    if back:
        lines.append(f"  rollback --to {back.get('version')}: {back.get('result')} in "
                     f"{back.get('seconds')} s, verified equal {back.get('verifiedEqual')}")
    for fault in report.get("faults") or []:
        took = fault.get("seconds") or {}
        lines.append(f"  interrupted switch: killed in {fault['phase']} after "
                     f"{took.get('untilKilled', 0):.1f} s, recovered by `{fault['recoveredBy']}` in "
                     f"{took.get('recovery', 0):.1f} s (status {took.get('status', 0):.1f} s); "
                     f"writes {fault['acknowledged']} acknowledged, "
                     f"{fault['lost']} lost, {fault['keptInArchive']} kept in an archive, "
                     f"{fault['failed']} failed (no definite answer); serving {fault['release']}")
    isolation = report.get("isolation")
    if isolation:
        lines.append(f"  isolation while both ran: {'isolated' if isolation['isolated'] else 'SHARED'}"
                     f" {isolation['shared'] if not isolation['isolated'] else ''}")
    for release, serving in (report.get("application") or {}).items():
        lines.append(f"  {release} release: gateway {serving['gateway']}, database {serving['database']}")
    engine = report.get("engine")
    if engine:
        lines.append(f"  engine: ran on {engine['dockerHost']} (Docker {engine.get('serverVersion')})"
                     + (", its ports through ssh tunnels" if engine.get("tunnels") else ""))
    if report.get("imagesChangedDuringRun"):
        lines.append(f"  WARNING: images rebuilt during the run: {report['imagesChangedDuringRun']}")
    lines += [f"  picture: {report.get('picture')}", f"  report: {report.get('reportPath')}"]
    return "\n".join(lines)


def _steps_under_load(steps: dict) -> list[str]:
    """One line per step the load ran through: its answers, its client window, its losses."""
    if not steps:
        return []
    lines = [f"  writes by step{'':<14} {'ack':>6} {'refused':>8} {'failed':>7} {'lost':>5} "
             f"{'client window':>14}  failures"]
    for step, counted in steps.items():
        window = counted.get("clientWindow") or {}
        lost = counted.get("lost")
        reasons = ", ".join(f"{k} x{v}" for k, v in (counted.get("failedReasons") or {}).items())
        lines.append(f"    {step:<26} {counted['acknowledged']:>6} {counted['refused']:>8} "
                     f"{counted['failed']:>7} {'-' if lost is None else lost:>5} "
                     f"{window.get('seconds', 0):>12.1f} s  {reasons}")
    return lines


def write_json(report: dict, directory: Path) -> Path:
    path = directory / "rehearsal-report.json"
    report["reportPath"] = str(path)
    path.write_text(json.dumps(report, indent=2, sort_keys=True, default=str))
    return path


def phase_bars(phase: dict, start: float) -> list[tuple[float, float, float, float]]:
    """(left, width, height, alpha) of a phase's bars: the whole update, light when its timeline
    is known, and each listed step over it, dark: the work against the engine's own time."""
    timeline = phase.get("timeline")
    bars = [(start, max(phase["seconds"], 0.1), 0.8, 0.35 if timeline else 1.0)]
    return bars + [(start + step["start"], step["seconds"], 0.45, 1.0)
                   for step in (timeline or {}).get("steps") or []]


def picture(switch: dict, writes: list, path: Path) -> Path | None:
    """The switch's phases as bars on a time axis (seconds from the switch's start), the window
    shaded, and the writes per second by outcome stacked below."""
    if not switch.get("phases"):
        return None
    import matplotlib
    matplotlib.use("Agg")   # no display: the picture is a file
    import matplotlib.pyplot as plt

    origin = epoch(switch["phases"][0]["start"])
    figure, (phases_ax, writes_ax) = plt.subplots(2, 1, sharex=True, figsize=(11, 6),
                                                  gridspec_kw={"height_ratios": [1, 1.3]})
    for row, phase in enumerate(switch["phases"]):
        start = epoch(phase["start"]) - origin
        colour = "tab:blue" if phase["ok"] else "tab:red"
        for left, width, height, alpha in phase_bars(phase, start):
            phases_ax.barh(row, width, left=left, height=height, color=colour, alpha=alpha)
        phases_ax.text(start, row, f" {phase['name']} {phase['seconds']:.1f} s", va="center", fontsize=8)
    phases_ax.set_yticks([])
    phases_ax.set_title(f"switch of {switch.get('stack')}: {switch.get('result')}")
    if any(phase.get("timeline") for phase in switch["phases"]):
        phases_ax.set_xlabel("dark: the update's steps of 0.5 s or more; light: the rest of the "
                             "update (the engine's start, short steps, its tail)", fontsize=8)
    _writes_per_second(writes_ax, writes, origin)
    window = switch.get("writeUnavailability")
    if window:
        for axis in (phases_ax, writes_ax):
            axis.axvspan(epoch(window["start"]) - origin, epoch(window["end"]) - origin,
                         color="grey", alpha=0.25, label=None)
        phases_ax.set_title(phases_ax.get_title() + f"; write-unavailability window (shaded) "
                                                    f"{window['seconds']:.1f} s")
    client = client_window(writes)
    if client.get("start"):
        writes_ax.axvspan(epoch(client["start"]) - origin, epoch(client["end"]) - origin,
                          ymin=0.92, ymax=1.0, color="black", alpha=0.6)
        writes_ax.set_title(f"writes per second; the clients' window (black band) "
                            f"{client['seconds']:.1f} s", fontsize=9)
    writes_ax.set_xlabel("seconds from the switch's start")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def _writes_per_second(axis, writes: list, origin: float) -> None:
    buckets: dict[str, dict[int, int]] = {outcome: {} for outcome in OUTCOME_COLOURS}
    for write in writes:
        second = int(write.at - origin)
        buckets[write.outcome][second] = buckets[write.outcome].get(second, 0) + 1
    seconds = sorted({s for counts in buckets.values() for s in counts})
    bottom = {s: 0 for s in seconds}
    for outcome, colour in OUTCOME_COLOURS.items():
        heights = [buckets[outcome].get(s, 0) for s in seconds]
        axis.bar(seconds, heights, width=1.0, align="edge", bottom=[bottom[s] for s in seconds],
                 color=colour, label=outcome)
        for s, h in zip(seconds, heights):
            bottom[s] += h
    axis.set_ylabel("writes per second")
    axis.legend(loc="upper right", fontsize=8)
