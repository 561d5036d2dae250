"""Redis with append-only persistence (component: components/platform/redis.py)."""
from config.services.spec import Probe, ServiceSpec, VolumeUse

PORT = 6379

SPEC = ServiceSpec(
    name="redis", rank=20, image="redis", port=PORT,
    health=Probe(start_period="10s", waited=True),
    volumes=(VolumeUse("redis-data", "/data"),),
    compose="redis", compose_required=True,
)
