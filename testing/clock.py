"""A clock that moves only when told, for code that takes `monotonic` and `now_iso`
(ops/switch/collaborators.Clock): budget and overrun tests run in no time, and the seconds
they report are exact instead of "more than zero"."""
from __future__ import annotations

import datetime as dt

EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


class FakeClock:
    """`monotonic()` returns the current time, then moves it on by `step` (0: never by itself);
    `advance(seconds)` moves it explicitly; `now_iso()` is the wall time as many seconds after
    `wall` as the clock has moved, in the format of ops.automation.ledger.now_iso."""

    def __init__(self, start: float = 0.0, step: float = 0.0, wall: dt.datetime = EPOCH):
        self.now, self.step = start, step
        self._start, self._wall = start, wall

    def monotonic(self) -> float:
        now = self.now
        self.now += self.step
        return now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def now_iso(self) -> str:
        return (self._wall + dt.timedelta(seconds=self.now - self._start)).isoformat(timespec="milliseconds")
