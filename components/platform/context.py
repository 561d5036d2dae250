"""What every component of one stack shares: its settings, Docker provider, network and images."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import pulumi
import pulumi_docker as docker

from components.platform.containers import ContainerSpec, stack_container
from components.platform.handover import maintenance_test
from config.naming import StackNames
from config.settings import Settings


@dataclass(frozen=True)
class StackContext:
    settings: Settings
    provider: docker.Provider
    network: Any                                   # the stack network's name (an Output)
    pulled_images: Mapping[str, docker.RemoteImage] = field(default_factory=dict)

    @property
    def names(self) -> StackNames:
        return self.settings.names

    def image(self, key: str) -> str:
        """The pinned reference of an image (config key: gateway, mongo, mongoUi, ...)."""
        return self.settings.images.by_key()[key]

    def image_deps(self, *keys: str) -> list[pulumi.Resource]:
        """Pulled images a container must wait for (pulled before the old container goes)."""
        return [self.pulled_images[k] for k in keys if k in self.pulled_images]

    def container(self, spec: ContainerSpec, *, parent: pulumi.Resource,
                  depends_on: Sequence[pulumi.Resource] = ()) -> docker.Container:
        """The stack's container for `spec`, on its network, through its provider."""
        return stack_container(self.names, spec, self.network, provider=self.provider,
                               parent=parent, depends_on=depends_on,
                               start_interval=self.settings.health_start_interval,
                               docker_host=self.settings.docker_host,
                               quiet=maintenance_test(self.names, self.settings.docker_host))
