"""rehearse [--scale 1] [--keep] [--report DIR] [--interrupt PHASE|none]: the whole switch on
real containers.

On the local Docker engine with the local images, two stacks of this project deployed by
`pulumi up` through ops (ops/rehearse/stacks.py says how they are named and kept apart from an
operator's): production on the legacy images holding a legacy dataset of `scale` times
production's size, and staging beside it filled from production's latest backup and migrated
(`refresh-staging`); isolation checked on the engine while both run; then, while a small load
generator writes through production's gateway, production's switch (`ops switch`), a plain
release (no migration, no maintenance: every routed service replaced, `plainRelease`), a failing
switch (the unhealthy gateway) and its automatic rollback, and `rollback --to` the legacy
release, every acknowledged write matched by id after each of them (ops/rehearse/under_load.py,
reported under `writes.byStep`, the clients' window beside the switch's under `window`); then
the interrupted switch: a switch SIGKILLed in PHASE (default release; `none`
skips it) and recovered by the command `status` names (ops/rehearse/faults.py, reported under
`faults`); teardown of both unless --keep. The report (a table, JSON and a picture) goes to DIR.

The interrupted switch comes last because it starts where a migration switch starts: after
`rollback --to` production is back on the legacy release and `meeshy_v2` is emptied, so a kill
in any phase of the migration switch is possible, and the switch it resumes also shows that a
switch starts cleanly after `rollback --to`. Nothing but teardown follows it, so however it ends
the switch under load, the failing switch and `rollback --to` have measured what they measure.
"""
from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

from config import stack_edits as edit
from ops.automation.ledger import now_iso
from ops.rehearse import checks, local_docker
from ops.rehearse.backend import keep_access, own_backend
from ops.rehearse.engine import LOCAL, Engine
from ops.rehearse.placement import Placement
from ops.rehearse.real_gateway import REAL_IMAGES, real_images
from ops.rehearse.stacks import DATABASE, TARGET_DATABASE, RehearsalStack, application, release_images

NEEDED_IMAGES = (*local_docker.SERVICE_IMAGES, "tools", "translator@legacy", "gateway@legacy",
                 "web@legacy", "gateway@unhealthy")

DEFAULT_INTERRUPT = "release"   # inside the window (the delta pass), where a kill leaves the most to undo
SWITCH_STEP = "switch under load"
PLAIN_STEP = "plain release under load"
# --stop-after KEY: the last step run (then teardown), for a benchmark of the switch alone.
STOP_AFTER = {"switch": SWITCH_STEP, "plain-release": PLAIN_STEP, "failing-switch": "failing switch",
              "rollback-to": "rollback --to legacy"}
MIGRATION = {"sourceDatabase": DATABASE, "targetDatabase": TARGET_DATABASE, "timeoutSeconds": 1800}


class StepFailed(RuntimeError):
    pass


class Rehearsal:
    def __init__(self, scale: float, report_dir: Path, log=print,
                 interrupt: str | None = DEFAULT_INTERRUPT, engine: Engine = LOCAL,
                 gateway: str = "stand-in", stop_after: str | None = None):
        self.id, self.scale, self.log = secrets.token_hex(2), scale, log
        self.interrupt = None if interrupt in (None, "none") else interrupt
        self.engine = engine
        self.dir = Path(report_dir).resolve()
        self.dir.mkdir(parents=True, exist_ok=True)
        self.env = own_backend(self.dir / "state")
        os.environ.update(engine.environment())     # Pulumi, the steps and `python -m ops`
        self.real, self.stop_after = gateway == "meeshy", stop_after
        self.images = local_docker.local_images()
        self.placement = Placement(engine, self.images, self.dir, self.id)
        missing = self.placement.missing_images(
            (*NEEDED_IMAGES, *REAL_IMAGES.values()) if self.real else NEEDED_IMAGES)
        if missing:
            raise StepFailed(f"images missing: {', '.join(missing)}; run tools/build-images.sh"
                             + (" and load them onto the server" if engine.remote else ""))
        if self.real:     # ops/rehearse/real_gateway.py
            self.images = real_images(self.images, engine)
        self.accounts: dict = {}   # the posting users' logins (ops/rehearse/accounts.py), in memory
        self.pairs: list | None = None     # (conversation, user) the load posts as; None: its own
        ports = self.placement.published_ports(2)
        self.production, self.staging = (
            RehearsalStack(self.env, f"rehearsal-{self.id}-{role}", self.images,
                           self.placement.backups, log, engine=engine, published=published)
            for role, published in zip(("production", "staging"), ports))
        self.writes: list = []
        self.load = None       # ops/rehearse/under_load.py, from the switch to rollback --to
        self.image_ids = engine.image_ids(self.images)
        self.report = {"id": self.id, "scale": scale, "started": now_iso(), "steps": [],
                       "stacks": {"production": self.production.name, "staging": self.staging.name},
                       "stateDir": str(self.env.state), "result": "running",
                       "application": {release: application(release_images(self.images, variant))
                                       for release, variant in (("legacy", "legacy"),
                                                                ("target", None))}}

    def step(self, name: str, action):
        """Runs one step, timed; a failure stops the rehearsal with one sentence naming it."""
        self.log(f"rehearse: {name} ...")
        record = {"name": name, "start": now_iso()}
        if self.load is not None and self.load.finished is None:
            self.load.enter(name)
        clock = time.monotonic()
        try:
            result = action()
            record["ok"] = True
        except Exception as error:      # noqa: BLE001 - any failure ends the rehearsal, named
            record["ok"], record["error"] = False, _sentence(error)
            raise StepFailed(f"step {name} failed: {record['error']}") from error
        finally:
            record.update(end=now_iso(), seconds=round(time.monotonic() - clock, 3))
            self.report["steps"].append(record)
            self.log(f"rehearse: {name} {'ok' if record['ok'] else 'FAILED'} in {record['seconds']:.1f} s")
        return result

    def run(self, keep: bool) -> dict:
        clock = time.monotonic()
        try:
            self.placement.open([self.production, self.staging])
            self.report["engine"] = self.placement.describe()
            for name, action in self.steps():
                self.step(name, action)
                if name == STOP_AFTER.get(self.stop_after):
                    self.report["stoppedAfter"] = name
                    break
            self.stop_load()
            if self.interrupt and not self.report.get("stoppedAfter"):
                self.step("interrupted switch", self.interrupted_switch)
            self.report["result"] = "succeeded" if checks.all_passed(self.report) else "failed"
        except StepFailed as failure:
            self.report["result"], self.report["failure"] = "failed", str(failure)
        except Exception as error:      # noqa: BLE001 - a tunnel that never opened, named
            self.report["result"], self.report["failure"] = "failed", _sentence(error)
        finally:
            self.stop_load()
            changed = sorted(k for k, i in self.engine.image_ids(self.images).items()
                             if self.image_ids.get(k) != i)
            if changed:     # the engine's images are shared: another build may replace one mid-run
                self.report["imagesChangedDuringRun"] = changed
            if keep:
                self.report["kept"] = keep_access(self.env.state)
            else:
                self.step_quietly("teardown", self.teardown)
            self.placement.close()
            self.report["seconds"] = round(time.monotonic() - clock, 3)
            self.report["ended"] = now_iso()
        return self.report

    def steps(self) -> list:
        """The steps before the interrupted switch, in order."""
        return [("deploy production (legacy)", self.deploy_production),
                ("insert legacy dataset", self.insert_dataset),
                *([("posting users get a login", self.provision_accounts)] if self.real else []),
                ("backup production", self.backup_production),
                ("deploy staging", self.deploy_staging),
                ("refresh staging", self.refresh_staging),
                ("both healthy and isolated", self.check_isolation),
                (SWITCH_STEP, self.switch), (PLAIN_STEP, self.plain_release),
                ("failing switch", self.failing_switch),
                ("rollback --to legacy", self.rollback_to_legacy)]

    def step_quietly(self, name: str, action) -> None:
        try:
            self.step(name, action)
        except StepFailed as failure:
            self.report["result"] = "failed"
            self.report.setdefault("failure", str(failure))

    # -- the steps -------------------------------------------------------------------------
    def deploy_production(self) -> None:
        stack = self.production
        stack.create(stack.settings("legacy-1", **edit.images(release_images(self.images, "legacy"))))
        stack.deploy("rehearse-production", check_policies=True)

    def insert_dataset(self) -> None:
        from legacy_data.dataset import insert_legacy_dataset
        with checks.client(self.production) as client:
            counts = insert_legacy_dataset(client[DATABASE], seed=1, scale=self.scale)
        self.report["dataset"] = {"database": DATABASE, "documents": sum(counts.values()),
                                  "collections": len(counts)}

    def provision_accounts(self) -> None:
        """Meeshy's gateway takes a post only from a logged-in user: the load's users get a
        password (ops/rehearse/accounts.py) before production's backup and the switch."""
        from ops.rehearse import accounts
        with checks.client(self.production) as client:
            self.pairs, self.accounts = accounts.posting_users(client[DATABASE])
        self.report["accounts"] = {"users": len(self.accounts)}

    def backup_production(self) -> None:
        """A release of the same images: its backup step archives the dataset, the backup
        refresh-staging then copies."""
        stack = self.production
        stack.write(stack.settings("legacy-2", **edit.images(release_images(self.images, "legacy"))))
        result = stack.deploy("rehearse-backup")
        self.legacy_version = result.version
        backup = (result.outputs.get("release") or {}).get("backup") or {}
        self.report["backup"] = {k: backup.get(k) for k in ("backupId", "documents", "sizeBytes")}

    def deploy_staging(self) -> None:
        stack = self.staging
        stack.create(stack.settings("target-1", **{
            "meeshy:protectData": False,     # staging is rebuilt from production's backups
            "meeshy:database": {**stack.settings("x")["meeshy:database"], "name": TARGET_DATABASE},
            "meeshy:migration": MIGRATION}))
        stack.deploy("rehearse-staging", check_policies=True)

    def refresh_staging(self) -> None:
        from ops.refresh_staging import refresh_staging
        done = refresh_staging(self.staging.runner, self.production.runner, log=self.log)
        summary = (done.get("migration") or {}).get("summary") or {}
        self.report["staging"] = {"result": done["result"], "backup": done["backup"]["backupId"],
                                  "restored": done.get("restored"), "seconds": done["seconds"],
                                  "migrationOk": summary.get("ok"), "error": done.get("error")}
        if done["result"] != "succeeded":
            raise StepFailed(f"refresh-staging {done['result']}: {done.get('error')}")

    def check_isolation(self) -> None:
        names = [self.production.name, self.staging.name]
        self.report["health"] = checks.wait_healthy(names, engine=self.engine)
        from ops.rehearse import isolation as rehearse_isolation
        self.report["isolation"] = found = rehearse_isolation.check(*names, engine=self.engine)
        if not found["isolated"]:
            raise StepFailed(f"the stacks share {found['shared']}")
        self._nothing_on_local_engine("isolation")

    def switch(self) -> None:
        from ops.rehearse.under_load import LoadThroughSteps
        self.load = LoadThroughSteps(self.production, self.dir, self.pairs, self.accounts)
        self.load.enter(SWITCH_STEP)
        report = checks.switch_under_load(self.production, self.images, MIGRATION, self.report,
                                          self.load.load, log=self.log)
        self.match_writes(SWITCH_STEP)
        if report["result"] != "succeeded":
            raise StepFailed(f"the switch {report['result']}: {report.get('failure')}")

    def plain_release(self) -> None:
        try:
            checks.plain_release(self.production, self.load.load, self.report, log=self.log)
        finally:
            self.match_writes(PLAIN_STEP)

    def failing_switch(self) -> None:
        try:
            checks.failing_switch(self.production, self.images, MIGRATION, self.report, log=self.log)
        finally:
            self.load.keep_archive(self.report.get("failingSwitch"))
            self.match_writes("failing switch")

    def rollback_to_legacy(self) -> None:
        try:
            checks.rollback_to(self.production, self.legacy_version, self.report, log=self.log)
        finally:
            self.load.keep_archive(self.report.get("rollbackTo"))
            time.sleep(checks.SETTLE_SECONDS)      # writes on the legacy release again
            self.match_writes("rollback --to legacy")

    def match_writes(self, step: str) -> None:
        self.load.match(step)

    def stop_load(self) -> None:
        """The load's writes kept for the report (`writes.byStep`) and the picture."""
        if self.load is not None:
            self.writes[:] = self.load.finish(self.report)

    def interrupted_switch(self) -> None:
        from ops.rehearse import faults
        stack = self.production
        settings = stack.settings("target-3", **{
            **edit.images(release_images(self.images, None)),
            "meeshy:database": {**stack.settings("x")["meeshy:database"], "name": TARGET_DATABASE},
            "meeshy:migration": MIGRATION})
        fault = faults.interrupted_switch(stack, settings, self.interrupt, self.dir,
                                          client=checks.client, log=self.log,
                                          pairs=self.pairs, accounts=self.accounts)
        self.report.setdefault("faults", []).append(fault)
        self.report.setdefault("writes", {}).setdefault("byStep", {})["interrupted switch"] = {
            k: fault[k] for k in ("acknowledged", "refused", "failed", "lost", "failedReasons",
                                  "clientWindow", "keptInArchive")}
        if fault["lost"]:
            raise StepFailed(f"{fault['lost']} acknowledged write(s) lost after a kill in "
                             f"{fault['phase']} and `{fault['recoveredBy']}`")

    def teardown(self) -> None:
        left = {stack.name: stack.remove() for stack in (self.staging, self.production)}
        remaining = {name: self.engine.holdings(name) for name in left}
        stack_files = [s.name for s in (self.staging, self.production) if s.stack_file.exists()]
        self.report["teardown"] = {"leftAfterDestroy": left, "remaining": remaining,
                                   "stackFilesLeft": stack_files,
                                   "backupsRemoved": self.placement.remove_backups()}
        if any(v for kinds in remaining.values() for v in kinds.values()) or stack_files:
            raise StepFailed(f"left on the engine after teardown: {remaining}")
        self._nothing_on_local_engine("teardown")

    def _nothing_on_local_engine(self, when: str) -> None:
        """With a remote engine, this machine's engine must hold nothing of either stack."""
        if not self.engine.remote:
            return
        found = self.placement.local_leftovers([self.production.name, self.staging.name])
        self.report.setdefault("localEngine", {})[when] = found
        if found:
            raise StepFailed(f"this machine's engine holds the stacks' {found}")


def _sentence(error: Exception) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0][:500] if "\n" in text else text[:500]
