"""Loading and checking a chain: ordered, linear, every rule well formed."""
from __future__ import annotations

import importlib
import pathlib
from dataclasses import dataclass

from migration.engine.errors import ConfigError
from migration.engine.model import CollectionRule, DropCollection, Step


@dataclass(frozen=True)
class Chain:
    steps: tuple
    schema_path: pathlib.Path | None = None
    decisions: tuple = ()   # ((name, value), ...) the chain was built for, all of them

    def step_ids(self) -> list:
        return [s.id for s in self.steps]

    def up_to(self, to: str | None) -> tuple:
        """The steps to apply for `--to STEP` (all of them without it)."""
        if to is None:
            return self.steps
        ids = self.step_ids()
        if to not in ids:
            raise ConfigError(f"--to {to!r} is not a step of the chain (steps: {', '.join(ids)})")
        return self.steps[: ids.index(to) + 1]

    def rules(self, steps=None) -> list:
        return [r for s in (self.steps if steps is None else steps) for r in s.rules]

    def rule_for(self, source: str):
        for rule in self.rules():
            if rule.source == source:
                return rule
        return None


def check_chain(steps) -> Chain:
    """Rejects a chain that is not strictly linear or whose rules are ambiguous."""
    steps = tuple(steps)
    if not steps:
        raise ConfigError("the chain has no steps")
    previous = None
    seen_sources: dict = {}
    for step in steps:
        if not isinstance(step, Step):
            raise ConfigError(f"chain entry {step!r} is not a Step")
        if step.previous != previous:
            raise ConfigError(
                f"step {step.id!r} says its previous step is {step.previous!r}, "
                f"but it follows {previous!r}: the chain must be strictly linear")
        for rule in step.rules:
            if not isinstance(rule, (CollectionRule, DropCollection)):
                raise ConfigError(f"step {step.id!r} has a rule that is neither a "
                                  f"CollectionRule nor a DropCollection: {rule!r}")
            if rule.source in seen_sources:
                raise ConfigError(f"source collection {rule.source!r} is driven by two rules "
                                  f"(steps {seen_sources[rule.source]!r} and {step.id!r})")
            seen_sources[rule.source] = step.id
            if isinstance(rule, CollectionRule):
                _check_rule(step, rule)
        previous = step.id
    return Chain(steps=steps)


def _check_rule(step: Step, rule: CollectionRule) -> None:
    where = f"step {step.id!r}, rule for {rule.source!r}"
    overlap = set(rule.mapped) & set(rule.dropped)
    if overlap:
        raise ConfigError(f"{where}: fields both mapped and dropped: {sorted(overlap)}")
    names = [x.name for x in rule.lookups] + [x.name for x in rule.children]
    if len(names) != len(set(names)):
        raise ConfigError(f"{where}: lookup/children names must be unique: {names}")
    if not callable(rule.transform):
        raise ConfigError(f"{where}: transform is not callable")


def load_chain(module_name: str, decisions=None) -> Chain:
    """Imports the chain package and reads its CHAIN and SCHEMA_PATH. With `decisions`
    ({name: value}), the chain's build_chain(decisions) replaces CHAIN; a chain declaring
    DECISIONS reports the value of each (its defaults unless overridden)."""
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"cannot import the chain {module_name!r}: {exc}") from exc
    declared = getattr(module, "DECISIONS", None)
    if decisions and declared is None:
        raise ConfigError(f"{module_name} declares no decisions: --decision cannot apply")
    try:
        steps = module.build_chain(decisions) if decisions else getattr(module, "CHAIN", None)
    except ValueError as exc:
        raise ConfigError(f"--decision: {exc}") from None
    if steps is None:
        raise ConfigError(f"{module_name} does not export CHAIN (a list of Step)")
    chain = check_chain(steps)
    schema_path = getattr(module, "SCHEMA_PATH", None)
    chosen = {name: d.default for name, d in (declared or {}).items()} | dict(decisions or {})
    return Chain(steps=chain.steps, schema_path=pathlib.Path(schema_path) if schema_path else None,
                 decisions=tuple(sorted(chosen.items())))
