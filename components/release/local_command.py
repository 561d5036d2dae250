"""The release steps' command resource: pulumi-command's `command.local.Command`, with the
conventions every step shares.

- The command runs only during `pulumi up` (never at preview), through /bin/sh in `dir`; a
  non-zero exit fails the step with the command's stderr.
- A change of `triggers` replaces the resource, so its `create` runs again; a change of any other
  input runs `update` (or `create` when no update is given), with the previous stdout in
  PULUMI_COMMAND_STDOUT, which lets a step re-publish its last result without running again.
- `environment` carries database URIs: callers pass it as a secret, so it stays encrypted in the
  state and never reaches an output; only stderr is logged, since stdout is a step's JSON result.
"""
from __future__ import annotations

from typing import Any, Sequence

import pulumi
import pulumi_command as command

COMMAND_TYPE = "command:local:Command"


def local_command(name: str, *, create: str, update: str | None = None, dir: str | None = None,
                  environment: Any = None, triggers: Sequence[Any] | None = None,
                  delete: str | None = None,
                  opts: pulumi.ResourceOptions | None = None) -> command.local.Command:
    return command.local.Command(
        name, create=create, update=update, delete=delete, dir=dir, environment=environment,
        triggers=list(triggers or []), add_previous_output_in_env=update is not None,
        logging=command.local.Logging.STDERR, opts=opts)
