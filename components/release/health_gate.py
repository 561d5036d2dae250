"""HealthGate: fails the update unless every service answers its health endpoint (gateway
`/health`, translator `/live`, web `/api/health`, static `/health`) and the database answers
ping before a deadline; the error names each unhealthy service and its last answer.

It runs when its triggers change (the release, the database the services use, the images, the
endpoints), after the resources it depends on. The database URI travels in the command's
secret environment.
"""
from __future__ import annotations

import shlex
from typing import Any, Sequence

import pulumi

from commands.steps import HEALTH_MONGO_ENV, Server, health_gate_command
from components.release.local_command import local_command
from config.locations import REPO_ROOT
from config.release_settings import HealthSettings
from steps.protocol import result_of


def parse_result(stdout: str) -> dict:
    result = result_of(stdout)
    if result is None:
        raise ValueError("health gate printed no result")
    return result


class HealthGate(pulumi.ComponentResource):
    def __init__(self, name: str, *, server: Server, settings: HealthSettings,
                 endpoints: dict[str, Any], database_uri: str | None,
                 triggers: Sequence[Any], depends_on: Sequence[pulumi.Resource] = (),
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("meeshy:health:HealthGate", name, None, opts)
        # An endpoint may be an Output (a rolling container's own name): the command is built
        # once they are known.
        create = pulumi.Output.from_input(endpoints).apply(lambda known: shlex.join(
            health_gate_command(server, deadline_seconds=settings.deadline_seconds,
                                interval_seconds=settings.interval_seconds, endpoints=known,
                                check_database=database_uri is not None)))
        self.check = local_command(
            f"{name}-check",
            create=create,
            dir=str(REPO_ROOT),
            environment=(pulumi.Output.secret({HEALTH_MONGO_ENV: database_uri})
                         if database_uri else None),
            triggers=[*triggers, *(pulumi.Output.concat(k, "=", v)
                                   for k, v in sorted(endpoints.items()))],
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(depends_on)),
        )
        result = self.check.stdout.apply(parse_result)
        self.services = result.apply(lambda r: r["services"])
        self.elapsed_seconds = result.apply(lambda r: r["elapsedSeconds"])
        self.register_outputs({"services": self.services, "elapsedSeconds": self.elapsed_seconds})
