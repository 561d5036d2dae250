"""A secret config value: its text never appears in repr, errors or plain outputs."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Secret:
    key: str                                    # the config key (path) it was read from
    value: Any = field(repr=False, compare=False)

    def output(self):
        import pulumi  # only the program needs Pulumi; parsing stays importable without it
        return pulumi.Output.secret(self.value)
