"""The load that runs through the rehearsal's switches: started before the switch, kept through
the failing switch with its automatic rollback and through `rollback --to`, stopped before the
interrupted switch (which runs a load of its own, ops/rehearse/faults.py).

After each step every write acknowledged so far is matched by id: in the database production
serves then, or in an archive of abandoned writes a rollback named (read back from the archive,
not counted). The report gives, per step, what its writes were answered (ops/rehearse/accounting.py)
and how many acknowledged writes, of that step or an earlier one, were found nowhere after it.
"""
from __future__ import annotations

from pathlib import Path

from ops.rehearse import accounting
from ops.rehearse import load as rehearse_load
from ops.rehearse.checks import client
from ops.rehearse.stacks import DATABASE, DOMAIN, RehearsalStack

MAX_SECONDS = 3600.0      # the load stops by itself, whatever happens to the rehearsal
MAX_WRITES = 60000


# Meeshy's gateway takes 300 requests a minute from one address, and the whole load reaches it
# from Traefik's: with logins, the load keeps to about 2.5 writes a second.
LOGGED_IN_INTERVAL_SECONDS = 0.8


def load_on(stack: RehearsalStack, tag: str, pairs: list | None = None, accounts: dict | None = None,
            **limits) -> rehearse_load.LoadGenerator:
    """A load posting through `stack`'s gateway as `pairs` (default: posters of its legacy
    database), logging in as `accounts` when given (ops/rehearse/accounts.py)."""
    if not pairs:
        with client(stack) as connection:
            pairs = rehearse_load.posters(connection[DATABASE])
    paced = {"interval_seconds": LOGGED_IN_INTERVAL_SECONDS, "accounts": accounts} if accounts else {}
    return rehearse_load.LoadGenerator(stack.ports["https"], f"gate.{stack.name}.{DOMAIN}", pairs,
                                       tag=tag, **paced, **limits)


class LoadThroughSteps:
    def __init__(self, stack: RehearsalStack, scratch: Path, pairs: list | None = None,
                 accounts: dict | None = None):
        self.stack, self.scratch = stack, scratch
        self.load = load_on(stack, f"rehearsal {stack.name}", pairs, accounts,
                            max_seconds=MAX_SECONDS, max_writes=MAX_WRITES)
        self.kept: set[str] = set()
        self.found: set[str] = set()    # acknowledged writes found by id at the last match
        self.looked_for: list = []      # the writes that match looked for
        self.matched: dict[str, dict] = {}
        self.finished: list | None = None

    def enter(self, step: str) -> None:
        """Writes sent from now on belong to `step`; the load starts with the first one."""
        self.load.step = step
        self.load.start()

    def keep_archive(self, rollback: dict | None) -> None:
        """The abandoned writes a rollback kept, by id, read back from its archive."""
        from ops.backups import stack_server
        from ops.rehearse.faults import kept_ids
        self.kept |= kept_ids(rollback, stack_server(self.stack.runner)[0], self.scratch)

    def match(self, step: str) -> dict:
        """Every write acknowledged so far, looked for by id where production's data is now."""
        from ops.automation import snapshots
        from ops.rehearse.faults import tally
        live = snapshots.current(self.stack.runner).settings.live_database
        writes = list(self.load.writes)
        with client(self.stack) as connection:
            found: set[str] = set()
            counted = tally(connection[live], writes, self.kept, found)
        self.found, self.looked_for = found, writes
        self.matched[step] = {"database": live, **counted}
        if counted["lost"]:
            raise RuntimeError(f"{counted['lost']} acknowledged write(s) found nowhere after {step} "
                               f"(neither in {live} nor in a kept archive): {counted['lostIds']}")
        return self.matched[step]

    def finish(self, report: dict) -> list:
        """Stops the load (once) and gives its writes; the report gets `writes.byStep`."""
        if self.finished is None:
            self.finished = self.load.stop()
            report.setdefault("writes", {})["byStep"] = self.by_step()
            if self.load.accounts:
                # The writes the last match looked for: one acknowledged after it (the load
                # stops a moment later) was looked for nowhere, and is neither found nor lost.
                report["realApi"] = {**accounting.real_api(self.looked_for, self.found),
                                     **report.get("realApi", {})}
        return self.finished

    def by_step(self) -> dict[str, dict]:
        """`writes.byStep`: each step's answers, and what the match after it found."""
        steps = accounting.by_step(self.load.writes)
        for step, counted in steps.items():
            matched = self.matched.get(step)
            counted["lost"] = matched["lost"] if matched else None
            if matched:
                counted["matched"] = {k: matched[k] for k in
                                      ("database", "acknowledged", "keptInArchive", "lostIds")}
        return steps
