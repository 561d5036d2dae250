"""The Meeshy platform for the selected stack: settings in, platform out, exports."""
import pulumi

from components.config_source import PulumiConfigSource
from components.platform import MeeshyPlatform, MeeshyPlatformArgs
from components.settings import load_settings

settings = load_settings(pulumi.get_stack(), PulumiConfigSource())
platform = MeeshyPlatform(f"meeshy-{settings.stack}", MeeshyPlatformArgs(settings))
for name, value in platform.outputs.items():
    pulumi.export(name, value)
