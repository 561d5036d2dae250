"""Which processes an ops command left behind, found without their parentage.

A SIGKILLed ops leaves its children (the `pulumi` CLI, the language host, the resource plugins,
the release steps) re-parented to init, where nothing ties them to ops any more. So every ops
command puts a marker in its own environment (`MEESHY_OPS_RUN=<pid>-<start>`), which each
child inherits through every exec; the next command finds the processes of a dead run by that
marker in /proc/<pid>/environ and ends them. A process is named by its pid and start time
(/proc/<pid>/stat field 22), so a pid the kernel reused is never taken for the one recorded.
"""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path

MARKER = "MEESHY_OPS_RUN"
_PROC = Path("/proc")


def start_ticks(pid: int) -> int | None:
    """The process's start time in clock ticks since boot, None when it does not exist."""
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    state = fields[0]
    if state in ("Z", "X"):       # a zombie has finished: it holds nothing
        return None
    return int(fields[19])


def identity(pid: int | None = None) -> str:
    pid = os.getpid() if pid is None else pid
    return f"{pid}-{start_ticks(pid)}"


def alive(ident: str | None) -> bool:
    """True when the process `<pid>-<start>` still runs (the same process, not a reused pid)."""
    if not ident or "-" not in ident:
        return False
    pid, start = ident.split("-", 1)
    return pid.isdigit() and str(start_ticks(int(pid))) == start


def mark_this_run() -> str | None:
    """Sets the marker every child of this process inherits; returns the value it replaced."""
    before = os.environ.get(MARKER)
    os.environ[MARKER] = identity()
    return before


def unmark(before: str | None) -> None:
    if before is None:
        os.environ.pop(MARKER, None)
    else:
        os.environ[MARKER] = before


def _environ_has(pid: str, needle: bytes) -> bool:
    try:
        return needle in (_PROC / pid / "environ").read_bytes().split(b"\0")
    except OSError:
        return False


def _command(pid: str) -> str:
    try:
        return (_PROC / pid / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"


def left_by(run: str) -> list[tuple[int, str]]:
    """(pid, command line) of every live process carrying the marker of run `run`."""
    needle = f"{MARKER}={run}".encode()
    me = str(os.getpid())
    found = []
    for entry in _PROC.iterdir():
        if entry.name.isdigit() and entry.name != me and start_ticks(int(entry.name)) is not None \
                and _environ_has(entry.name, needle):
            found.append((int(entry.name), _command(entry.name)))
    return sorted(found)


def end(run: str, grace: float = 5.0) -> list[tuple[int, str]]:
    """Ends what a dead run left: SIGTERM, then SIGKILL for what ignores it (the plugins do).
    Refuses a run that is still alive. Returns what was ended."""
    if alive(run):
        raise RuntimeError(f"ops run {run} is still alive: its processes are its own")
    return _end(run, grace)


def end_mine(grace: float = 5.0) -> list[tuple[int, str]]:
    """This run's own descendants, ended as it exits (on an error, SIGTERM or Ctrl-C too)."""
    run = os.environ.get(MARKER)
    return _end(run, grace) if run == identity() else []


def _end(run: str, grace: float) -> list[tuple[int, str]]:
    left = left_by(run)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid, _ in left_by(run):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + grace
        while left_by(run) and time.monotonic() < deadline:
            time.sleep(0.1)
        if not left_by(run):
            break
    return left
