"""The Redis web client, behind basic auth (components/platform/admin.py)."""
from config.services.spec import ADMIN_UIS, ServiceSpec, VolumeUse

SPEC = ServiceSpec(
    name="redis-ui", rank=100, image="redisUi", port=7843,
    subdomain="redis", runs=ADMIN_UIS,
    volumes=(VolumeUse("redis-ui-data", "/settings", keep=False),),
    compose="p3x-redis-ui",
)
