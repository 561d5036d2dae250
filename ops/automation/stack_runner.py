"""Runs the stack's updates through the Automation API, one phase at a time, with a deadline.

Each phase is a real `pulumi up` of the project's program (a local program through the Python
language host) with a configuration file written for that phase, recorded in the stack's
history with the message `meeshy-ops <opId> <phase>`. The engine's events time the release's
own steps (backup, migration, health gate) inside a phase. A phase that overruns its deadline
is interrupted (SIGINT to the `pulumi` process this runner started, then SIGTERM) and fails.
"""
from __future__ import annotations

import datetime as dt
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from pulumi import automation as auto
from pulumi.automation.events import OpType

from components.release.local_command import COMMAND_TYPE
from config import naming
from config.locations import with_project_tools
from config.stack_file import ConfigDoc, project_name, stack_file
from ops.automation import stack_secrets
from ops.automation.env import REPO_ROOT, OpsEnvironment
from ops.automation.ledger import Ledger, now_iso
from ops.automation.timeline import ResourceTimeline

MESSAGE_PREFIX = "meeshy-ops"
# Enforced on every preview and update ops makes (a violation stops it before any change).
POLICY_PACK = REPO_ROOT / "policy"
HISTORY_PAGE = 500
# Operations in which a command resource runs its command (a replaced one runs in the
# create-replacement step; deleting the old one runs nothing).
_RUNNING_OPS = {OpType.CREATE, OpType.UPDATE, OpType.CREATE_REPLACEMENT}
COMMAND_TYPES = (COMMAND_TYPE,)
STEP_SUFFIXES = {"-backup-dump": "backup", "-migration-run": "migration", "-gate-check": "healthGate",
                 "-schema-check-validate": "schemaCheck",
                 "-schema-check-prisma": "prismaRead"}


class PolicyViolation(RuntimeError):
    """The policy pack refused the configuration at preview: nothing was changed."""


def policy_violations(output: str) -> list[str]:
    """The mandatory violations a preview printed: the rule and the resource, then the rule's
    description and the message, as one line each."""
    lines, found = output.splitlines(), []
    for index, line in enumerate(lines):
        if "[mandatory]" in line:
            detail = []
            for following in lines[index + 1:]:
                if not following.strip() or following.strip().startswith("- ["):
                    break
                detail.append(following.strip())
            found.append(" ".join([" ".join(line.split()[1:]), *detail]))
    return found


@dataclass
class PhaseResult:
    phase: str
    version: int | None
    ok: bool
    started: str
    ended: str
    seconds: float
    outputs: dict = field(default_factory=dict)
    steps: dict = field(default_factory=dict)       # backup/migration/healthGate -> seconds
    error: str | None = None
    overrun: bool = False
    timeline: dict = field(default_factory=dict)    # timeline.ResourceTimeline.summary()
    begun: frozenset[str] = frozenset()             # the steps that began (timeline.step_name)


class _StepTimer:
    """Times the release's command resources from the engine's event stream."""

    def __init__(self) -> None:
        self.started: dict[str, float] = {}
        self.seconds: dict[str, float] = {}
        self.failed: list[str] = []

    def __call__(self, event) -> None:
        pre, done = event.resource_pre_event, event.res_outputs_event
        failed = event.res_op_failed_event
        meta = (pre or done or failed).metadata if (pre or done or failed) else None
        if meta is None or meta.type not in COMMAND_TYPES:
            return
        step = next((name for suffix, name in STEP_SUFFIXES.items() if meta.urn.endswith(suffix)), None)
        if step is None or meta.op not in _RUNNING_OPS:
            return
        if step in ("backup", "migration", "schemaCheck", "prismaRead") and meta.op == OpType.UPDATE:
            return      # their update re-publishes the previous result: nothing ran
        if pre:
            self.started[step] = time.monotonic()
        elif step in self.started:
            self.seconds[step] = round(time.monotonic() - self.started[step], 3)
            if failed:
                self.failed.append(step)


def _child_pulumi_pids() -> list[int]:
    """`pulumi` processes whose parent is this process (the ones this runner started)."""
    me, found = os.getpid(), []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1: stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        if ppid == me and name == "pulumi":
            found.append(int(entry.name))
    return found


def program_env(env: OpsEnvironment, project_dir: Path) -> dict[str, str]:
    """The workspace's environment: the backend and passphrase, the project's interpreter for
    the language host (PULUMI_PYTHON_CMD) and first on PATH for the release steps' `python`."""
    values = env.workspace_env()
    values.update(with_project_tools({
        "PATH": os.pathsep.join([str(env.pulumi.parent), os.environ.get("PATH", "")]),
        "PYTHONPATH": os.environ.get("PYTHONPATH", "")}))
    values["PULUMI_PYTHON_CMD"] = sys.executable
    # The policy pack reads the stack files of the project it checks (policy/stack_files.py).
    values["MEESHY_PROJECT_DIR"] = str(project_dir)
    return values


class StackRunner:
    def __init__(self, env: OpsEnvironment, project_dir: Path, stack: str,
                 log: Callable[[str], None] = print, create: bool = False):
        self.env, self.project_dir, self.stack_name = env, Path(project_dir).resolve(), stack
        self.project = project_name(self.project_dir)
        self.ledger = Ledger(env.ledger_root(self.project, stack))
        self.log = log
        root = str(env.pulumi.parent.parent) if env.pulumi.parent.name == "bin" else None
        options = auto.LocalWorkspaceOptions(
            work_dir=str(self.project_dir), env_vars=program_env(env, self.project_dir),
            pulumi_command=auto.PulumiCommand(root=root))
        opener = auto.create_or_select_stack if create else auto.select_stack
        self.stack = opener(stack_name=stack, work_dir=str(self.project_dir), opts=options)
        self.policy_packs = [str(POLICY_PACK)] if POLICY_PACK.is_dir() else []
        stack_secrets.register(stack, self.config_value)

    @property
    def stack_file(self) -> Path:
        return stack_file(self.project_dir, self.stack_name)

    def desired(self) -> ConfigDoc:
        return ConfigDoc.read(self.stack_file)

    def config_value(self, key: str) -> str | None:
        """One key of the stack file, decrypted by the CLI with the stack's passphrase when it
        is a secret; None when the stack file does not set it."""
        if key not in self.desired().config:
            return None
        try:
            return self.stack.get_config(key).value
        except auto.CommandError as error:   # its stderr names the key, never the value
            lines = [line.strip() for line in str(error).splitlines() if line.strip()]
            said = next((line[line.index("error:"):] for line in lines if "error:" in line),
                        lines[-1] if lines else "no output")
            raise RuntimeError(f"`pulumi config get {key}` failed: {said}") from None

    def message(self, op_id: str, phase: str) -> str:
        return f"{MESSAGE_PREFIX} {op_id} {phase}"

    def up(self, doc: ConfigDoc, *, op_id: str, phase: str, snapshot: bool,
           deadline: float, policy: bool = True,
           on_step_done: Callable[[str], None] | None = None) -> PhaseResult:
        """One update with `doc`; `deadline` is a time.monotonic() value; `policy`: with the
        policy pack (ops/switch/plan.py says when a switch runs without it); `on_step_done(name)`
        as each step ends well (timeline.step_name)."""
        config_path = doc.write(self.ledger.scratch(f"{op_id}-{phase}.yaml"))
        timer = _StepTimer()
        timeline = ResourceTimeline(prefix=f"{naming.PREFIX}-{self.stack_name}-", on_done=on_step_done)
        started_iso, clock = now_iso(), time.monotonic()
        fired = threading.Event()
        done = threading.Event()

        def watchdog() -> None:
            if done.wait(max(0.0, deadline - time.monotonic())):
                return
            fired.set()
            self.log(f"[{phase}] over budget: interrupting the update")
            # SIGINT asks pulumi to cancel (it waits for steps in flight); SIGTERM, then
            # SIGKILL, when a step in flight would hold it past the budget.
            for sig, grace in ((signal.SIGINT, 10), (signal.SIGTERM, 10), (signal.SIGKILL, 5)):
                for pid in _child_pulumi_pids():
                    try:
                        os.kill(pid, sig)
                    except ProcessLookupError:
                        pass
                if done.wait(grace):
                    return

        guard = threading.Thread(target=watchdog, daemon=True)
        guard.start()
        error, outputs, version = None, {}, None
        since = time.time()
        try:
            result = self.stack.up(config_file=str(config_path), message=self.message(op_id, phase),
                                   policy_packs=self.policy_packs if policy else [],
                                   on_event=lambda event: (timer(event), timeline(event)),
                                   color="never",
                                   suppress_progress=True,
                                   on_output=lambda line: None)
            outputs = {k: v.value for k, v in result.outputs.items() if not v.secret}
        except auto.errors.CommandError as failure:
            error = _short_error(failure)
        finally:
            done.set()
            guard.join(timeout=35)
        version = recorded_version(self._all_updates(), self.message(op_id, phase), since)
        ok = error is None and not fired.is_set()
        if fired.is_set():
            error = (f"overran its budget ({deadline - clock:.0f} s left at start)"
                     + (f"; {error}" if error else ""))
        phase_result = PhaseResult(phase, version, ok, started_iso, now_iso(),
                                   round(time.monotonic() - clock, 3), outputs, dict(timer.seconds),
                                   error, fired.is_set(), timeline.summary(),
                                   frozenset(timeline.begun))
        if version is not None:
            if ok:
                self.ledger.keep_config(version, config_path)
            self.ledger.append({"kind": "update", "version": version, "opId": op_id,
                                "message": self.message(op_id, phase),
                                "phase": phase, "snapshot": snapshot and ok,
                                "result": "succeeded" if ok else "failed",
                                "release": outputs.get("release"), "steps": timer.seconds})
        self.log(f"[{phase}] {'ok' if ok else 'FAILED'} in {phase_result.seconds:.1f} s"
                 + (f" (version {version})" if version else "") + (f": {error}" if error else ""))
        return phase_result

    def preview(self, doc: ConfigDoc, *, op_id: str) -> auto.PreviewResult:
        config_path = doc.write(self.ledger.scratch(f"{op_id}-preview.yaml"))
        return self.stack.preview(config_file=str(config_path), diff=True, color="never",
                                  policy_packs=self.policy_packs,
                                  suppress_progress=True)

    def check_policies(self, doc: ConfigDoc, *, op_id: str) -> None:
        """A preview with the policy pack before any update: `up` skips its own preview, and a
        stack-wide rule (host ports) would only be judged after every resource was created."""
        try:
            self.preview(doc, op_id=op_id)
        except auto.errors.CommandError as failure:
            found = policy_violations(str(failure))
            if not found:
                raise
            raise PolicyViolation(f"the policy pack refused stack {self.stack_name!r}, nothing "
                                  "was changed:\n  " + "\n  ".join(found)) from None

    def history(self) -> list[tuple[int, auto.UpdateSummary]]:
        """(version, update), newest first. The file backend records every update's version
        as 0 (and no configuration): updates are numbered by position, oldest = 1, as the
        cloud backend numbers them; history is append-only so the numbers never move."""
        entries = self._all_updates()
        return [(len(entries) - index, entry) for index, entry in enumerate(entries)]

    def _all_updates(self) -> list[auto.UpdateSummary]:
        # `pulumi stack history` returns 10 updates unless paged: read every page.
        entries: list[auto.UpdateSummary] = []
        page = 1
        while True:
            chunk = self.stack.history(page_size=HISTORY_PAGE, page=page, show_secrets=False)
            entries.extend(chunk)
            if len(chunk) < HISTORY_PAGE:
                return entries
            page += 1


def recorded_version(updates: list, message: str, since: float) -> int | None:
    """The version of the update just run (`updates` newest first, numbered by position):
    the newest, if it is that update (its message, started at `since` or after; the CLI
    records whole seconds); None when the engine recorded none. Counting the history before
    the update too cost a CLI call, inside the window for a switch's later phases."""
    if not updates:
        return None
    newest = updates[0]
    started = newest.start_time
    if started.tzinfo is None:     # the SDK parses the CLI's UTC time into a naive datetime
        started = started.replace(tzinfo=dt.timezone.utc)
    return (len(updates) if newest.message == message and started.timestamp() >= since - 1.0
            else None)


def _short_error(failure: Exception) -> str:
    text = str(failure)
    lines = [line for line in text.splitlines() if line.strip()]
    interesting = [line for line in lines if "error" in line.lower() or "failed" in line.lower()]
    return " | ".join((interesting or lines)[-6:])[:2000]
