"""`rehearse --gateway meeshy`: the target release on Meeshy's own gateway, both stacks on
DocumentDB, the server whose answers that gateway's Prisma needs (filters, relation loads,
transactions: FerretDB 1.24 refuses them). The legacy release and the failing switch's
unhealthy gateway stay our stand-ins; the translator and the web too.

The images are the local ones (`tools/build-images.sh --list`): `gateway@meeshy` and
`mongo@documentdb` take the places of `gateway` and `mongo`. The bootstrap builds both in the
background, after its other tools: a rehearsal started before they are built is refused,
naming them.
"""
from __future__ import annotations

from ops.rehearse.engine import Engine

REAL_IMAGES = {"gateway": "gateway@meeshy", "mongo": "mongo@documentdb"}


class ImagesNotBuilt(RuntimeError):
    pass


def real_images(images: dict[str, str], engine: Engine) -> dict[str, str]:
    """`images` with Meeshy's gateway and DocumentDB in the places of the target's."""
    wanted = {key: images[key] for key in REAL_IMAGES.values()}
    ids = engine.image_ids(wanted)
    absent = [f"{key} ({ref})" for key, ref in wanted.items() if not ids[key]]
    if absent:
        raise ImagesNotBuilt(
            f"images not built yet on {engine.name}: {', '.join(absent)}; the bootstrap builds "
            "them in the background (tools/build-documentdb.sh, tools/build-gateway-image.sh; "
            "their logs in ~/.cache/meeshy-infra/logs)")
    return {**images, **{key: images[real] for key, real in REAL_IMAGES.items()}}
