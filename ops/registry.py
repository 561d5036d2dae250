"""The one registry of the operators' verbs: each verb is one function of ops/verbs.py,
registered with `@verb(...)` together with its arguments and what is checked before it runs.
ops/cli.py derives its parser from the registry, ops/preflight.py its checks and ops/verbs.py's
`run` its dispatch, so a verb is declared once (as Alembic's command module)."""
from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ops.automation.env import REPO_ROOT


@dataclass(frozen=True)
class Arg:
    flags: tuple[str, ...]
    options: dict = field(default_factory=dict)


def arg(*flags: str, **options: Any) -> Arg:
    return Arg(flags, options)


@dataclass(frozen=True)
class Verb:
    name: str
    run: Callable                       # (args) or (args, runner) -> (exit code, report)
    help: str
    on_stack: bool = True               # runs on a stack of the project (a StackRunner)
    applies: bool = False               # hands the stack file to the program: parsed first
    creates: bool = False               # may create the stack (its first deploy)
    # Its own arguments: an Arg, a tuple of Args (one of them at most) or a function that adds
    # them to its parser (the audit's are the audit module's own).
    arguments: tuple = ()
    check: Callable | None = None       # (args) -> problems, before any work (or raises)
    check_file: Callable | None = None  # (stack, ConfigDoc) -> problem or None


VERBS: dict[str, Verb] = {}

# Arguments several verbs share.
CONFIRM = arg("--yes", action="store_true", help="do not ask for confirmation")
BUDGET = arg("--budget", type=float, default=600.0, metavar="SECONDS",
             help="time allowed before an automatic rollback (default 600)")
REQUIRE_SMOKE = arg("--require-smoke", nargs="?", const="staging", default=None, metavar="STAGING",
                    help="refuse unless STAGING's (default staging) last smoke check passed after "
                         "its last refresh-staging (ops/smoke_verb.py)")


def verb(name: str, help: str, **declared: Any) -> Callable:
    """Registers the decorated function as the verb `name`."""
    def register(function: Callable) -> Callable:
        VERBS[name] = Verb(name, function, help, **declared)
        return function
    return register


def add_verbs(subparsers: Any) -> None:
    """One subcommand per registered verb, in registration order, with its arguments."""
    for v in VERBS.values():
        sub = subparsers.add_parser(v.name, help=v.help)
        if v.on_stack:
            sub.add_argument("stack")
            sub.add_argument("--project-dir", type=Path, default=REPO_ROOT,
                             help="the Pulumi project (default: this repository)")
            sub.add_argument("--json", metavar="FILE", type=Path, help="write the report as JSON")
        for item in v.arguments:
            _add(sub, item)


def _add(parser: argparse.ArgumentParser, item: Any) -> None:
    if isinstance(item, Arg):
        parser.add_argument(*item.flags, **item.options)
    elif isinstance(item, tuple):
        group = parser.add_mutually_exclusive_group()
        for one in item:
            group.add_argument(*one.flags, **one.options)
    else:
        item(parser)
