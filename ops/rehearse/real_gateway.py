"""`rehearse --gateway meeshy`: the target release on Meeshy's own gateway, both stacks on
DocumentDB, the server whose answers that gateway's Prisma needs (filters, relation loads,
transactions: FerretDB 1.24 refuses them). The legacy release and the failing switch's
unhealthy gateway stay our stand-ins; the translator and the web too.

The images are the local ones (`tools/build-images.sh --list`): `gateway@meeshy` and
`mongo@documentdb` take the places of `gateway` and `mongo`. The bootstrap builds both in the
background, after its other tools: a rehearsal waits for them while they build (bounded by
MEESHY_DOCUMENTDB_WAIT seconds), and a failed or absent build stops it at once, naming it.
"""
from __future__ import annotations

from ops import built_images
from ops.rehearse.engine import Engine

REAL_IMAGES = {"gateway": "gateway@meeshy", "mongo": "mongo@documentdb"}
BUILDS = {"gateway@meeshy": built_images.GATEWAY, "mongo@documentdb": built_images.DOCUMENTDB}


def real_images(images: dict[str, str], engine: Engine, wait=built_images.wait_for) -> dict[str, str]:
    """`images` with Meeshy's gateway and DocumentDB in the places of the target's. On the
    local engine their background builds are waited for (bounded; a failed or absent build
    raises ImageNotBuilt at once, naming its script and log); a server's engine must hold them
    already (the placement checks it)."""
    if not engine.remote:
        for key, build in BUILDS.items():
            wait(build, images[key])
    return {**images, **{key: images[real] for key, real in REAL_IMAGES.items()}}
