"""The maintenance answer: a small nginx answering 503 (components/platform/maintenance.py)."""
from config.services.spec import Probe, ServiceSpec

SPEC = ServiceSpec(
    name="maintenance", rank=80, image="maintenance", image_default="static", port=80,
    # The update that turns maintenance on waits until it is healthy.
    health=Probe(tool="wget", start_period="10s", waited=True),
)
