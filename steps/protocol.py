"""How a step reports to whoever runs it: its result is the last non-empty line of its stdout,
one JSON object (whatever it logged before that line is for people). The release's components,
ops and the rehearsal read a step's result with `result_of`, so the rule is written once.
"""
from __future__ import annotations

import json


def print_result(result: dict) -> None:
    """A step's last line: its result as one JSON object (values JSON cannot hold as text)."""
    print(json.dumps(result, sort_keys=True, default=str), flush=True)


def result_of(stdout: str | None) -> dict | None:
    """The JSON object a step printed last, or None when it printed nothing."""
    lines = [line for line in (stdout or "").splitlines() if line.strip()]
    return json.loads(lines[-1]) if lines else None
