"""Runs the real program (`__main__.py`) for a stack under Pulumi's mocks, with no CLI and no
Docker, and records what it registers: inputs (secrets unwrapped but remembered), the provider,
parent and resource options the engine would see. Tests and `python -m testing.describe`
use it; it is never part of a deployment.
"""
from __future__ import annotations

import hashlib
import json
import runpy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.stack import wait_for_rpcs
from pulumi.runtime.sync_await import _sync_await

from config.stack_file import ConfigDoc, stack_file

REPO = Path(__file__).resolve().parent.parent
_SECRET_SIG = rpc._special_sig_key
# Obviously fake, well-formed values for offline runs (never used by a deployment).
EXAMPLE_SECRETS = {
    "meeshy:jwtSecret": "example-jwt-secret-0123456789abcdef0123456789",
    "meeshy:adminPassword": "example-admin-password",
    "meeshy:meeshyPassword": "example-meeshy-password",
    "meeshy:atabethPassword": "example-atabeth-password",
    "meeshy:dashboardAuth": "ops:$apr1$abcdefgh$56.6xICOvPiwEtMethSa81",
    "meeshy:adminUiAuth": "ops:$apr1$ijklmnop$UoCKOvuPMv0Tqy4mn0/Y10",
}

# Stands for every entry of meeshy:serviceSecrets a stack file names (see example_secrets): 32
# bytes in base64, 44 characters, a value every checked variable takes (config/services/gateway.py).
EXAMPLE_SERVICE_SECRET = "ZXhhbXBsZS1zZXJ2aWNlLXNlY3JldC12YWx1ZS0zMmI="


def example_secrets(config: dict[str, Any]) -> dict[str, Any]:
    """The placeholder secrets a stack's config needs: EXAMPLE_SECRETS, plus one placeholder for
    each meeshy:serviceSecrets entry its meeshy:services names."""
    from config.service_settings import SECRETS_KEY, secret_names
    names = secret_names(config.get("meeshy:services"))
    return {**EXAMPLE_SECRETS,
            **({SECRETS_KEY: {n: EXAMPLE_SERVICE_SECRET for n in sorted(names)}} if names else {})}


# What the release steps print, for offline runs: a backup manifest, a migration result, a gate
# result (the shapes steps.backup_run, steps.migration_step and steps.health_gate print).
EXAMPLE_STEP_OUTPUTS = {
    "-backup-dump": {"backupId": "example/meeshy/0", "archive": "/example.archive.gz",
                     "sha256": "0" * 64, "sizeBytes": 0, "database": "meeshy",
                     "collections": {}, "documents": 0},
    "-migration-run": {"exitCode": 0, "report": "/example.json", "durationSeconds": 0.0,
                       "summary": {"ok": True}},
    "-gate-check": {"healthy": True, "services": {}, "elapsedSeconds": 0.0},
    "-schema-check-copy": {"image": "example:1", "path": "/schema.prisma", "file": "/x.prisma",
                           "sha256": "0" * 64, "models": 1},
    "-schema-check-validate": {"exitCode": 0, "report": "/example.json", "durationSeconds": 0.0,
                               "summary": {"ok": True, "documents": 0, "invalid": 0}},
    "-schema-check-prisma": {"prisma": "6.19.3", "documents": 0, "refused": 0, "unexamined": 0,
                             "refusals": [], "models": {}, "seconds": 0.0, "ok": True},
}


@dataclass
class Recorded:
    urn: str
    type: str
    name: str
    custom: bool
    inputs: dict
    secret_props: set[str]
    provider: str
    parent: str
    protect: bool
    retain_on_delete: bool
    delete_before_replace: bool
    import_id: str
    ignore_changes: list[str]
    dependencies: list[str]


@dataclass
class ProgramRun:
    stack: str
    resources: list[Recorded]
    exports: dict[str, Any] = field(default_factory=dict)
    secret_exports: set[str] = field(default_factory=set)

    def of_type(self, suffix: str) -> list[Recorded]:
        return [r for r in self.resources if r.type.endswith(suffix)]

    def named(self, name: str, type_suffix: str = "") -> Recorded:
        found = [r for r in self.resources if r.name == name and r.type.endswith(type_suffix)]
        if len(found) != 1:
            raise KeyError(f"{len(found)} resources named {name!r} of type *{type_suffix}")
        return found[0]

    def container(self, service: str) -> Recorded:
        return self.named(f"meeshy-{self.stack}-{service}", ":Container")


def unwrap(value: Any) -> tuple[Any, bool]:
    """Strip secret markers; report whether any part of the value was secret."""
    if isinstance(value, dict):
        if value.get(_SECRET_SIG) == rpc._special_secret_sig:
            inner, _ = unwrap(value["value"])
            return inner, True
        out, secret = {}, False
        for k, v in value.items():
            out[k], s = unwrap(v)
            secret |= s
        return out, secret
    if isinstance(value, list):
        items = [unwrap(v) for v in value]
        return [i for i, _ in items], any(s for _, s in items)
    return value, False


class _Cloud(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        state = dict(args.inputs)
        if args.typ == "docker:index/remoteImage:RemoteImage":
            name, _ = unwrap(args.inputs.get("name"))
            state["imageId"] = "sha256:" + hashlib.sha256(str(name).encode()).hexdigest()
        if args.typ == "command:local:Command":
            state["stdout"] = "replica set initiated"
        step = next((out for suffix, out in EXAMPLE_STEP_OUTPUTS.items()
                     if args.name.endswith(suffix)), None)
        if step is not None and args.typ == "command:local:Command":
            # The release steps' outputs are parsed from their JSON stdout (components/release/release.py).
            state["stdout"], state["stderr"] = json.dumps(step), ""
        return [args.resource_id or f"{args.name}-id", state]

    def call(self, args: pulumi.runtime.MockCallArgs):
        return {}


class _RecordingMonitor(pulumi_mocks.MockMonitor):
    def __init__(self, mocks, sink: list[Recorded], stack: str):
        super().__init__(mocks)
        self.sink, self.stack = sink, stack

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        # The base class reads the stack from a context variable the RPC thread does not see.
        if parent:
            type_ = parent.split("::")[2].split("$").pop() + "$" + type_
        return f"urn:pulumi:{self.stack}::meeshy::{type_}::{name}"

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            props = rpc.deserialize_properties(request.object, keep_unknowns=True)
            plain, secret = {}, set()
            for key, value in props.items():
                plain[key], is_secret = unwrap(value)
                if is_secret:
                    secret.add(key)
            self.sink.append(Recorded(
                urn=response.urn, type=request.type, name=request.name, custom=request.custom,
                inputs=plain, secret_props=secret, provider=request.provider, parent=request.parent,
                protect=bool(request.protect), retain_on_delete=bool(request.retainOnDelete),
                delete_before_replace=bool(request.deleteBeforeReplace), import_id=request.importId,
                ignore_changes=list(request.ignoreChanges), dependencies=list(request.dependencies)))
        return response


def stack_file_config(stack: str, repo: Path = REPO) -> dict[str, Any]:
    """The `config:` of Pulumi.<stack>.yaml, with encrypted entries left out."""
    return ConfigDoc.read(stack_file(repo, stack)).plain_values()


def engine_value(value: Any) -> str:
    """Config as the engine hands it to a program: text, structured values as JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def run_program(stack: str, config: dict[str, Any], secrets: dict[str, str] | None = None,
                program: Path = REPO / "__main__.py", sink: list[Recorded] | None = None) -> ProgramRun:
    """Runs `program` for `stack` with `config` (plain) and `secrets` (set as secret config).
    `sink` receives registrations as they happen (also when the program fails)."""
    secrets = EXAMPLE_SECRETS if secrets is None else secrets
    sink = [] if sink is None else sink
    runtime_settings.ROOT.set(None)  # a fresh root Stack per run, so URNs carry this stack
    pulumi.runtime.set_mocks(_Cloud(), project="meeshy", stack=stack, preview=False,
                             monitor=_RecordingMonitor(_Cloud(), sink, stack))
    values = {k: engine_value(v) for k, v in {**config, **secrets}.items()}
    pulumi.runtime.set_all_config(values, secret_keys=list(secrets))
    exports: dict[str, Any] = {}
    original_export = pulumi.export
    pulumi.export = lambda name, value: exports.__setitem__(name, value)
    try:
        runpy.run_path(str(program), run_name="__main__")
        _sync_await(wait_for_rpcs())
    finally:
        pulumi.export = original_export
    run = ProgramRun(stack, sink)
    for name, value in exports.items():
        out = pulumi.Output.from_input(value)
        run.exports[name] = _sync_await(out.future())
        if _sync_await(out.is_secret()):
            run.secret_exports.add(name)
    return run


def run_stack_file(stack: str, extra: dict[str, Any] | None = None,
                   secrets: dict[str, str] | None = None, file: str | None = None,
                   sink: list[Recorded] | None = None) -> ProgramRun:
    """Runs the program for `stack` with the config of Pulumi.<file or stack>.yaml plus `extra`."""
    config = {**stack_file_config(file or stack), **(extra or {})}
    secrets = example_secrets(config) if secrets is None else secrets
    return run_program(stack, {k: v for k, v in config.items() if v is not None}, secrets, sink=sink)
