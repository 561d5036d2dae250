"""The MongoDB web client, behind basic auth (components/platform/admin.py)."""
from config.services.spec import ADMIN_UIS, Probe, ServiceSpec

SPEC = ServiceSpec(
    name="mongo-ui", rank=90, image="mongoUi", port=3000,
    health=Probe("", tool="curl"),
    subdomain="mongo", runs=ADMIN_UIS,
    compose="nosqlclient",
)
