"""The Meeshy platform for the selected stack: settings in, platform out, exports."""
import pulumi

from components.platform.platform import MeeshyPlatform, MeeshyPlatformArgs
from config.pulumi_source import PulumiConfigSource
from config.stack_settings import load_stack

stack = load_stack(pulumi.get_stack(), PulumiConfigSource(), platform=True)
platform = MeeshyPlatform(f"meeshy-{stack.stack}", MeeshyPlatformArgs(stack.platform, stack.release))
for name, value in platform.outputs.items():
    pulumi.export(name, value)
