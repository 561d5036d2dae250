"""The rehearsal's switches and what it checks of them on the engine: the switch of production
under load (no acknowledged write lost, the new gateway serving the migrated data), the failing
switch (production exactly as before: images and hash-equal data) and `rollback --to`."""
from __future__ import annotations

import contextlib
import time

from config import stack_edits as edit
from config.stack_file import ConfigDoc
from migration.engine.deadlines import mongo_client
from ops.rehearse import accounting
from ops.rehearse import load as rehearse_load
from ops.rehearse.engine import LOCAL, Engine
from ops.rehearse.stacks import DATABASE, TARGET_DATABASE, RehearsalStack, release_images

HEALTH_WAIT_SECONDS = 180
SETTLE_SECONDS = 3.0      # writes before the switch starts and after it ends, for the picture
CHECK_TIMEOUT_SECONDS = 300   # one operation of the checks (a digest's find over a collection)


@contextlib.contextmanager
def client(stack: RehearsalStack):
    connection = mongo_client(stack.database_uri(), CHECK_TIMEOUT_SECONDS, connect_seconds=20)
    try:
        yield connection
    finally:
        connection.close()


def wait_healthy(stacks: list[str], seconds: float = HEALTH_WAIT_SECONDS, engine: Engine = LOCAL) -> dict:
    """Docker's health status of every container of the stacks on `engine`, once all are
    healthy at the same time (or time is up: then the step fails naming the others)."""
    deadline = time.monotonic() + seconds
    while True:
        status = {name: (engine.inspect("container", name)["State"].get("Health") or {})
                  .get("Status", "no health check") for stack in stacks
                  for name in engine.labelled("container", stack)}
        unhealthy = {n: s for n, s in status.items() if s not in ("healthy", "no health check")}
        if not unhealthy:
            return status
        if time.monotonic() > deadline:
            raise RuntimeError(f"not healthy after {seconds:.0f} s: {unhealthy}")
        time.sleep(2)


def running_images(stack: str, engine: Engine = LOCAL) -> dict[str, str]:
    return {name: engine.inspect("container", name)["Config"]["Image"]
            for name in engine.labelled("container", stack)}


def switch_under_load(stack: RehearsalStack, images: dict, migration: dict, report: dict,
                      load, log=print) -> dict:
    """The switch with `load` (a running LoadGenerator) writing over all of it: the pre-copy
    migration pass (verified for what it read, `liveSource`), the delta pass under maintenance
    (refused with 503) and the new release. Its writes are the ones sent in this step."""
    from ops.switch.run import run_switch
    stack.write(stack.settings("target-1", **{
        **edit.images(release_images(images, None)),
        "meeshy:database": {**stack.settings("x")["meeshy:database"], "name": TARGET_DATABASE},
        "meeshy:migration": migration}))
    # As `switch` does: the desired document judged by the policy pack before anything changes
    # (the phases inside the window run without it, ops/switch/plan.py).
    stack.runner.check_policies(stack.runner.desired(), op_id="policy-switch")
    time.sleep(SETTLE_SECONDS)
    switched = run_switch(stack.runner, budget_seconds=600.0, rollback_budget_seconds=600.0, log=log)
    time.sleep(SETTLE_SECONDS)
    writes = [w for w in load.writes if w.step == load.step]
    report["load"] = {"from": "before the switch", "to": "the end of rollback --to",
                      "threads": load.threads, "intervalSeconds": load.interval_seconds}
    report["switch"] = switched
    report["switch"]["documentsMovedInWindow"] = _delta_documents(switched)
    # Lost means absent from the database production's services use once the switch is over.
    live = TARGET_DATABASE if switched["result"] == "succeeded" else DATABASE
    with client(stack) as connection:
        check = {"database": live, **rehearse_load.missing_writes(connection[live], writes)}
    window = switched.get("writeUnavailability") or {}
    counted = accounting.summary(writes)
    served = _served_after_switch(load, writes, counted["clientWindow"].get("start")
                                  or window.get("start"))
    report["window"] = {"switch": window.get("seconds"), "client": counted["clientWindow"]["seconds"]}
    if load.accounts:
        report["realApi"] = {"history": _history_after_switch(load, writes)}
    report["writes"] = {**counted, "lost": check["lost"], "check": check,
                        "servedByNewGateway": served, "posters": len(load.pairs),
                        "acknowledgedDuringPreCopy": _acknowledged_during(
                            writes, switched, "backup-and-migrate")}
    return switched


def _acknowledged_during(writes: list, switched: dict, phase_name: str) -> int:
    """Writes production took while a phase ran (the pre-copy's: the source grew under it)."""
    from ops.rehearse.report import epoch
    for phase in switched.get("phases") or []:
        if phase["name"] == phase_name and phase.get("start") and phase.get("end"):
            start, end = epoch(phase["start"]), epoch(phase["end"])
            return sum(1 for w in writes if w.outcome == "acknowledged" and start <= w.at <= end)
    return 0


def _delta_documents(switched: dict) -> dict | None:
    """What the delta pass (inside the window) moved: its migration totals."""
    passes = switched.get("migration") or {}
    delta = passes.get("release") or passes.get("delta-migration") or {}
    totals = (delta.get("summary") or {}).get("totals")
    return totals


def _served_after_switch(load, writes: list, window_start: str | None) -> dict:
    """The newest write acknowledged before the clients' window (the legacy release's last one,
    written into the legacy database, then carried by the delta pass), read back through the
    new gateway among the conversation's newest messages."""
    from ops.rehearse.report import epoch
    cutoff = epoch(window_start) if window_start else float("inf")
    before = [w for w in writes if w.outcome == "acknowledged" and w.at < cutoff]
    if not before:
        return {"checked": False, "why": "no write was acknowledged before the window"}
    last = before[-1]
    status, listed = _listed_ids(load, last.conversation)
    return {"checked": True, "messageId": last.message_id, "conversation": last.conversation,
            "status": status, "served": last.message_id in listed,
            "through": "Meeshy's API, logged in" if load.accounts else "the stand-in's API"}


def _history_after_switch(load, writes: list) -> dict:
    """The newest write Meeshy's gateway acknowledged, read back through its API by the user
    who posted it, among its conversation's newest messages."""
    mine = [w for w in writes if w.outcome == "acknowledged" and w.api == "meeshy"]
    if not mine:
        return {"checked": False, "why": "Meeshy's gateway acknowledged no write in the switch"}
    last = mine[-1]
    clock = time.monotonic()
    status, listed = _listed_ids(load, last.conversation)
    return {"checked": True, "messageId": last.message_id, "conversation": last.conversation,
            "status": status, "served": last.message_id in listed,
            "seconds": round(time.monotonic() - clock, 3)}


def _listed_ids(load, conversation: str) -> tuple[int | None, set]:
    """The ids of a conversation's newest messages as the gateway serves them: Meeshy's own
    lists them only to a member logged in, as the user who posted there."""
    if not load.accounts:
        status, listed = rehearse_load.list_messages(load, conversation)
        return status, {m.get("id") for m in listed}
    user = next(str(u) for c, u in load.pairs if str(c) == conversation)
    status, ids = rehearse_load.read_history(load, user, conversation)
    return status, set(ids)


def failing_switch(stack: RehearsalStack, images: dict, migration: dict, report: dict,
                   log=print) -> None:
    """A release whose gateway never gets healthy: the switch must roll back by itself and
    leave production as it was: the same images, and its data hash-equal to the backup taken
    when maintenance stopped the writes (the load goes on writing before and after, so the data
    is compared with that moment; its writes are matched by id after the step)."""
    from ops.switch.run import run_switch
    images_before = running_images(stack.name, stack.engine)
    stack.write(stack.settings("target-2-unhealthy", **{
        **edit.images(release_images(images, None, gateway=images["gateway@unhealthy"])),
        "meeshy:database": {**stack.settings("x")["meeshy:database"], "name": TARGET_DATABASE},
        "meeshy:migration": migration,
        "meeshy:healthGate": {"deadlineSeconds": 20, "intervalSeconds": 1}}))
    stack.runner.check_policies(stack.runner.desired(), op_id="policy-switch")
    switched = run_switch(stack.runner, budget_seconds=600.0, rollback_budget_seconds=600.0, log=log)
    images_after = running_images(stack.name, stack.engine)
    failed = [p for p in switched["phases"] if not p["ok"]]
    rollback = switched.get("rollback") or {}
    restored = (rollback.get("verification") or {}).get(TARGET_DATABASE) or {}
    same_data, same_images = restored.get("equal") is True, images_after == images_before
    report["failingSwitch"] = {
        "result": switched["result"], "failure": switched.get("failure"),
        "phases": switched["phases"], "detectSeconds": failed[0]["seconds"] if failed else None,
        "rollbackSeconds": rollback.get("seconds"), "rollbackResult": rollback.get("result"),
        "hashEqual": same_data, "comparedWith": restored.get("backupId"),
        "imagesEqual": same_images, "imagesBefore": sorted(set(images_before.values())),
        "writeUnavailability": switched.get("writeUnavailability"),
        "verification": rollback.get("verification"),
        "abandonedWrites": rollback.get("abandonedWrites")}
    if switched["result"] != "rolled back" or not same_data or not same_images:
        raise RuntimeError(f"the failing switch did not leave production as before: "
                           f"{switched['result']}, data equal {same_data}, images equal {same_images}")


def rollback_to(stack: RehearsalStack, version: int, report: dict, log=print) -> None:
    from ops.switch.rollback import RollbackFailed
    from ops.switch.rollback import rollback_to as rollback_verb
    clock = time.monotonic()
    try:
        done = rollback_verb(stack.runner, version, confirm=lambda summary: True,
                             budget_seconds=600.0, log=log)
    except RollbackFailed as failed:
        done = failed.report or {"result": "failed", "error": str(failed)}
    verification = done.get("verification") or {}
    report["rollbackTo"] = {
        "version": version, "result": done.get("result"), "seconds": round(time.monotonic() - clock, 3),
        "release": done.get("release"), "restores": [r.get("database") for r in done.get("restores") or []],
        "verifiedEqual": bool(verification) and all(v.get("equal") for v in verification.values()),
        "abandonedWrites": {k: (done.get("abandonedWrites") or {}).get(k)
                            for k in ("database", "inserted", "updated", "deleted", "keptIn",
                                      "readBack")},
        "images": sorted(set(running_images(stack.name, stack.engine).values()))}
    if done.get("result") != "succeeded":
        raise RuntimeError(f"rollback --to {version} {done.get('result')}: {done.get('error')}")


# A release without a data migration: each routed service's environment changes, so each is
# replaced (a new image would do the same), through one `ops deploy` and no maintenance.
ROUTED = ("translator", "gateway", "web", "static")
PLAIN_RELEASE_ENV = "MEESHY_REHEARSAL_RELEASE"


def plain_release(stack: RehearsalStack, load, report: dict, log=print) -> dict:
    """The plain release under the load: every write answered by a gateway, none refused, none
    failed, every routed container replaced. Its writes are the ones sent in this step."""
    before = _container_names(stack)
    doc = ConfigDoc.read(stack.stack_file)     # the stack file as the switch left it, edited
    services = doc.config.get("meeshy:services") or {}     # the gateway's secretEnv kept
    stack.write({**{k: v for k, v in doc.config.items() if k not in doc.secret_keys()},
                 "meeshy:release": "target-2",
                 "meeshy:services": {**services, **{s: {**services.get(s, {}), "env": {
                     **(services.get(s) or {}).get("env", {}), PLAIN_RELEASE_ENV: "target-2"}}
                     for s in ROUTED}}})
    time.sleep(SETTLE_SECONDS)
    started = time.monotonic()
    stack.deploy("rehearse-plain-release")
    seconds = round(time.monotonic() - started, 3)
    time.sleep(SETTLE_SECONDS)
    after = _container_names(stack)
    counted = accounting.summary([w for w in load.writes if w.step == load.step])
    report["plainRelease"] = {**{k: counted[k] for k in ("acknowledged", "refused", "failed")},
                              "failedReasons": counted["failedReasons"], "seconds": seconds,
                              "replaced": sorted(s for s in ROUTED if before.get(s) != after.get(s))}
    log(f"rehearse: plain release: {report['plainRelease']}")
    return report["plainRelease"]


def _container_names(stack: RehearsalStack) -> dict:
    outputs = stack.runner.stack.outputs()
    return dict(outputs["containerNames"].value) if "containerNames" in outputs else {}


def plain_release_passed(plain: dict | None) -> bool:
    """No downtime: nothing refused, nothing failed, every routed service replaced (or the
    step did not run)."""
    return plain is None or (plain["refused"] == 0 and plain["failed"] == 0
                             and plain["replaced"] == sorted(ROUTED))


def all_passed(report: dict) -> bool:
    """Every check of the steps that ran (all of them, unless --stop-after ended it early)."""
    writes = report.get("writes") or {}

    def passed(key: str, check: str) -> bool:
        if key not in report and report.get("stoppedAfter"):
            return True
        return (report.get(key) or {}).get(check, False)
    return (writes.get("lost") == 0 and plain_release_passed(report.get("plainRelease"))
            and (writes.get("check") or {}).get("notMigrated") == 0
            and (writes.get("servedByNewGateway") or {}).get("served", False)
            and (report.get("isolation") or {}).get("isolated", False)
            and passed("failingSwitch", "hashEqual") and passed("rollbackTo", "verifiedEqual")
            and real_api_passed(report.get("realApi")))


def real_api_passed(real: dict | None) -> bool:
    """Through Meeshy's gateway: writes acknowledged, every one found by id, and the switch's
    newest read back through its API (or the rehearsal ran on the stand-in)."""
    return real is None or (real.get("acknowledged", 0) > 0
                            and real.get("found") == real.get("acknowledged")
                            and (real.get("history") or {}).get("served", False))
