"""`meeshy:migration.decisions`: the operators' own decisions as a stack-file setting.

Each is an option of the Meeshy chain (migration/meeshy/decisions.py) whose default is the
operators' choice; a stack file states it (both committed ones do) or takes the other value,
which the release passes to every migration it runs as `--decision NAME=VALUE`.
"""
from __future__ import annotations

from typing import Mapping

from migration.meeshy.decisions import DECISIONS, resolve

# The operators' own decisions: the default of every stack.
OPERATORS_DECISIONS = resolve()
# Stack-file key (camelCase, as every setting) -> the chain's decision name.
DECISION_KEYS = {"notifications": "notifications", "readStatuses": "read-statuses"}


def read_decisions(r) -> dict[str, str]:
    """Every decision's value: the stack file's, else the operators' own choice. `r` is
    release_settings' reader: problems are recorded under the full key, defaults read instead."""
    raw = r.raw("migration.decisions")
    if raw is None:
        return dict(OPERATORS_DECISIONS)
    if not isinstance(raw, Mapping):
        return r.fail(f"{r.key('migration.decisions')} must be an object "
                      f"{{{', '.join(f'{k}: VALUE' for k in DECISION_KEYS)}}}, got {raw!r}",
                      dict(OPERATORS_DECISIONS))
    for key in sorted(set(raw) - set(DECISION_KEYS), key=str):
        r.fail(f"{r.key('migration.decisions.' + str(key))}: unknown decision; expected one of "
               f"{', '.join(DECISION_KEYS)}")
    chosen = {}
    for key, name in DECISION_KEYS.items():
        value = raw.get(key)
        choices = sorted(DECISIONS[name].choices)
        if value is None:
            chosen[name] = OPERATORS_DECISIONS[name]
        elif value not in choices:
            chosen[name] = r.fail(f"{r.key('migration.decisions.' + key)}: must be one of "
                                  f"{', '.join(choices)}, got {value!r}", OPERATORS_DECISIONS[name])
        else:
            chosen[name] = value
    return chosen
