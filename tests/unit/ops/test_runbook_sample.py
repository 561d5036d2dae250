"""The runbook's sample switch output (a real run's, pasted) holds together: every phase listed,
the write-unavailability window no shorter than the phases it spans (ops/switch/run.py: from the
takeover's start, else from the phase turning maintenance on, to the end of release) and no
longer than the switch."""
import re
from pathlib import Path

RUNBOOK = Path(__file__).resolve().parents[3] / "docs" / "runbook.md"
PHASE = re.compile(r"^  ([a-z-]+)\s+([\d.]+) s  (ok|FAILED)")
ROUNDING = 0.05   # each figure is printed to a tenth of a second


def switch_samples() -> list[str]:
    blocks = re.findall(r"```text\n(.*?)```", RUNBOOK.read_text(), flags=re.S)
    return [b for b in blocks if b.startswith("switch ") and "write-unavailability window" in b]


def spanned(phases: list[tuple[str, float]]) -> float:
    """The phases' seconds the window must hold: from the takeover's start, else from the
    phase that turns maintenance on (the first after the pre-copy; in older runs the one after
    maintenance-on's own update, whose start may precede the page), to the end of release."""
    names = [n for n, _ in phases]
    if "takeover" in names:
        first = names.index("takeover")
    elif "maintenance-on" in names:
        first = names.index("maintenance-on") + 1
    else:
        first = names.index("backup-and-migrate") + 1 if "backup-and-migrate" in names else 0
    return sum(s for _, s in phases[first:names.index("release") + 1])


def test_each_sample_switch_is_whole_and_its_window_fits_its_phases():
    samples = switch_samples()
    assert samples, "the runbook shows no switch output"
    for text in samples:
        lines = text.splitlines()
        total = float(re.search(r"succeeded in ([\d.]+) s", lines[0]).group(1))
        phases = [(m.group(1), float(m.group(2))) for m in map(PHASE.match, lines) if m]
        assert "  ..." not in lines, "a pasted run is shown whole"
        assert [n for n, _ in phases][-2:] == ["release", "maintenance-off"], phases
        window = float(re.search(r"write-unavailability window: ([\d.]+) s", text).group(1))
        lower = spanned(phases) - ROUNDING * len(phases)
        assert lower <= window <= total + ROUNDING, (window, spanned(phases), total)
        assert sum(s for _, s in phases) <= total + ROUNDING * len(phases)


def test_the_check_refuses_a_window_shorter_than_its_phases():
    phases = [("takeover", 9.8), ("backup-and-migrate", 95.1), ("maintenance-on", 1.0),
              ("delta-migration", 3.0), ("release", 40.0), ("maintenance-off", 1.0)]
    assert round(spanned(phases), 1) == 148.9 > 74.0    # the sample the runbook used to show
    plain = [("backup-and-migrate", 60.0), ("maintenance-on", 1.0), ("delta-migration", 3.0),
             ("release", 40.0), ("maintenance-off", 1.0)]
    assert round(spanned(plain), 1) == 43.0
    merged = [("backup-and-migrate", 60.0), ("release", 18.0), ("maintenance-off", 4.0)]
    assert spanned(merged) == 18.0 and spanned([("backup", 5.0), ("release", 18.0)]) == 23.0
