"""A local command resource: pulumi-command's `command.local.Command` when its provider plugin is
installed, else an equivalent Pulumi dynamic provider (Python) with the same semantics.

Why two: the release steps are meant to be `command.local.Command` resources, but the module
proxy here refuses the pulumi-command provider (docs/toolchain.md), and without its plugin the
engine cannot run them. The dynamic provider runs in the engine like any provider (through
`pulumi-resource-pulumi-python`) and keeps the semantics the release relies on:
- runs `create` (via /bin/sh -c, in `dir`, with `environment`) only during `pulumi up`, never at
  preview; a non-zero exit fails the step with the command's stderr;
- a change of `triggers` replaces the resource (runs `create` again); a change of any other
  input runs `update` (or `create` when no update is given) with the previous stdout in
  PULUMI_COMMAND_STDOUT;
- outputs `stdout` and `stderr`; the environment's values never reach the outputs (only a
  hash of them, for the diff), and stay secret in the state's inputs.
MEESHY_COMMAND_PROVIDER=command|dynamic forces one; a stack should keep the one it started
with (changing it replaces every command resource, so they run once more).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any, Mapping, Sequence

import pulumi
import pulumi.dynamic as dynamic

COMMAND_PLUGIN_VERSION = "1.2.1"
INPUT_KEYS = ("create", "update", "dir")
STDERR_TAIL = 4000


def command_plugin_available() -> bool:
    home = Path(os.environ.get("PULUMI_HOME") or Path.home() / ".pulumi")
    cached = home / "plugins" / f"resource-command-v{COMMAND_PLUGIN_VERSION}"
    return cached.is_dir() or shutil.which("pulumi-resource-command") is not None


def provider_kind() -> str:
    forced = os.environ.get("MEESHY_COMMAND_PROVIDER", "").strip()
    if forced in ("command", "dynamic"):
        return forced
    if forced:
        raise ValueError(f"MEESHY_COMMAND_PROVIDER={forced!r}: expected 'command' or 'dynamic'")
    return "command" if command_plugin_available() else "dynamic"


def _plain(value: Any) -> Any:
    """Secret markers as the engine hands them to a dynamic provider, removed."""
    from pulumi.runtime import rpc
    if isinstance(value, dict):
        if rpc._special_sig_key in value:
            return _plain(value.get("value"))
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _environment_hash(environment: Mapping[str, str] | None) -> str:
    text = json.dumps(_plain(environment or {}), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _run(props: dict, script: str, previous_stdout: str | None = None) -> dict:
    env = dict(os.environ)
    # `python` in a release step is the project's interpreter, the one running this provider.
    env["PATH"] = os.pathsep.join(filter(None, [str(Path(sys.executable).parent),
                                                env.get("PATH")]))
    env.update({k: str(v) for k, v in (_plain(props.get("environment")) or {}).items()})
    if previous_stdout is not None:
        env["PULUMI_COMMAND_STDOUT"] = previous_stdout
    done = subprocess.run(["/bin/sh", "-c", script], cwd=props.get("dir") or None, env=env,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"command exited with {done.returncode}: "
                           f"{done.stderr[-STDERR_TAIL:].strip() or done.stdout[-STDERR_TAIL:].strip()}")
    return {"stdout": done.stdout.rstrip("\n"), "stderr": done.stderr[-STDERR_TAIL:]}


def _outs(props: dict, result: dict) -> dict:
    return {**{k: props.get(k) for k in INPUT_KEYS}, "triggers": _plain(props.get("triggers")),
            "environmentHash": _environment_hash(props.get("environment")), **result}


class _LocalCommandProvider(dynamic.ResourceProvider):
    def create(self, props):
        return dynamic.CreateResult(id_=uuid.uuid4().hex, outs=_outs(props, _run(props, props["create"])))

    def diff(self, _id, olds, news):
        replaces = ["triggers"] if _plain(olds.get("triggers")) != _plain(news.get("triggers")) else []
        changed = bool(replaces) or any(olds.get(k) != news.get(k) for k in INPUT_KEYS) or (
            olds.get("environmentHash") != _environment_hash(news.get("environment")))
        return dynamic.DiffResult(changes=changed, replaces=replaces,
                                  delete_before_replace=False)

    def update(self, _id, olds, news):
        script = news.get("update") or news["create"]
        return dynamic.UpdateResult(outs=_outs(news, _run(news, script, olds.get("stdout") or "")))

    def delete(self, _id, _props):
        return None     # like command.local.Command without a delete command: nothing to undo


class DynamicLocalCommand(dynamic.Resource):
    stdout: pulumi.Output[str]
    stderr: pulumi.Output[str]

    def __init__(self, name: str, props: dict, opts: pulumi.ResourceOptions | None = None):
        super().__init__(_LocalCommandProvider(), name,
                         {**props, "stdout": None, "stderr": None, "environmentHash": None}, opts)


def local_command(name: str, *, create: str, update: str | None = None, dir: str | None = None,
                  environment: Any = None, triggers: Sequence[Any] | None = None,
                  opts: pulumi.ResourceOptions | None = None, stderr_only_logging: bool = True):
    """A command resource with outputs `stdout` and `stderr`, on whichever provider exists."""
    if provider_kind() == "command":
        import pulumi_command as command
        return command.local.Command(
            name, create=create, update=update, dir=dir, environment=environment,
            triggers=list(triggers or []), add_previous_output_in_env=update is not None,
            logging=command.local.Logging.STDERR if stderr_only_logging else None, opts=opts)
    props = {"create": create, "update": update, "dir": dir, "environment": environment,
             "triggers": list(triggers or [])}
    return DynamicLocalCommand(name, props, opts)
