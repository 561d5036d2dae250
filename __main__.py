"""The Meeshy platform for the selected stack: settings in, platform out, exports."""
import pulumi

from components.platform.platform import MeeshyPlatform, MeeshyPlatformArgs
from config.pulumi_source import PulumiConfigSource
from config.release_settings import has_release_section, load_release_settings
from config.settings import load_settings

source = PulumiConfigSource()
settings = load_settings(pulumi.get_stack(), source)
release = (load_release_settings(settings.stack, source) if has_release_section(source) else None)
platform = MeeshyPlatform(f"meeshy-{settings.stack}", MeeshyPlatformArgs(settings, release))
for name, value in platform.outputs.items():
    pulumi.export(name, value)
