"""MongoDB: one `mongod --replSet` container (component: components/platform/mongo.py)."""
from config.services.spec import Probe, ServiceSpec, VolumeUse

PORT = 27017

SPEC = ServiceSpec(
    name="database", rank=10, image="mongo", port=PORT,
    health=Probe(start_period="40s", waited=True),   # the replica-set init waits on it
    volumes=(VolumeUse("database-data", "/data/db"),
             VolumeUse("database-config", "/data/configdb")),
    compose="database", compose_required=True,
)
