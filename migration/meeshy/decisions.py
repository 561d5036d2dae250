"""The operators' own decisions, as options of the chain (operators-migration-strategy,
2026-01-25): each has the operators' choice as its default and an alternative that is tested
too. `python -m migration plan|run --decision NAME=VALUE` overrides one; the report lists them.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Decision:
    default: str
    choices: dict       # value -> what it does
    why: str            # the operators' reason for the default


DECISIONS = {
    "notifications": Decision(
        "drop", {"drop": "Notification is not migrated (counted dropped)",
                 "migrate": "Notification is restructured into the target's Notification"},
        "about 70% of the documents; the services regenerate notifications"),
    "read-statuses": Decision(
        "migrate", {"migrate": "MessageReadStatus becomes MessageStatusEntry (read times folded in)",
                    "drop": "MessageReadStatus is not migrated (MessageStatus.readAt only)"},
        "migrate what the target has a model for: MessageStatusEntry holds read times"),
}


def resolve(chosen=None) -> dict:
    """Every decision's value: the operators' default unless `chosen` overrides it. All unknown
    names and values are reported at once (ValueError, one sentence per problem)."""
    chosen = dict(chosen or {})
    problems = [f"unknown decision {name!r} (decisions: {', '.join(sorted(DECISIONS))})"
                for name in sorted(set(chosen) - set(DECISIONS))]
    for name, value in sorted(chosen.items()):
        if name in DECISIONS and value not in DECISIONS[name].choices:
            problems.append(f"decision {name} cannot be {value!r} (choices: "
                            f"{', '.join(sorted(DECISIONS[name].choices))})")
    if problems:
        raise ValueError("; ".join(problems))
    return {name: chosen.get(name, d.default) for name, d in DECISIONS.items()}


def dropped_by_decision(name: str, value: str) -> str:
    """The reason a DropCollection gives when a decision drops a collection."""
    return f"dropped by decision ({name}={value}): {DECISIONS[name].why}"
