"""Per-stack Docker volumes: created under the stack's name, or adopted from an existing
deployment (imported, never recreated or emptied)."""
from __future__ import annotations

import pulumi
import pulumi_docker as docker

from config import naming
from config.settings import Settings

# Adopted volumes keep the labels and driver options of the deployment that created them:
# declaring ours would make the import differ from the existing volume and fail.
ADOPTED_IGNORED = ["labels", "driver", "driverOpts"]


def is_protected(settings: Settings, purpose: str) -> bool:
    return purpose in settings.adopt.volumes or (naming.VOLUMES[purpose] and settings.protect_data)


def stack_volume(settings: Settings, purpose: str, *, provider: pulumi.ProviderResource,
                 parent: pulumi.Resource) -> docker.Volume:
    names = settings.names
    adopted = settings.adopt.volumes.get(purpose)
    protect = is_protected(settings, purpose)
    opts = pulumi.ResourceOptions(
        parent=parent, provider=provider, protect=protect, retain_on_delete=protect,
        import_=adopted, ignore_changes=ADOPTED_IGNORED if adopted else None)
    labels = None if adopted else [
        docker.VolumeLabelArgs(label=naming.STACK_LABEL, value=names.stack),
        docker.VolumeLabelArgs(label="meeshy.purpose", value=purpose),
    ]
    return docker.Volume(names.volume(purpose), name=adopted or names.volume(purpose),
                         labels=labels, opts=opts)
