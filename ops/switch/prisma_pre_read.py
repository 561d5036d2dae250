"""The full read of the migrated data by the new gateway image's Prisma Client, right after the
pre-copy and outside the write-unavailability window: a document the services' own ORM refuses
stops the switch before maintenance. The release's check inside the window then reads only the
documents the delta pass wrote (the ids its report lists; steps/prisma_read.py --written)."""
from __future__ import annotations

from config import stack_edits as edit
from ops import data_ops


def pre_read(switch, phase) -> str | None:
    """Reads the pre-copy's target with the desired gateway image; records it in the report.
    Returns the failure, if any."""
    migration = switch.desired.migration
    final = switch.phases[-1].doc.plain_values()
    image = (final.get(edit.key("images")) or {}).get("gateway")
    if migration is None or not image:
        return None
    clock = switch.c.clock
    started = clock.monotonic()
    server = data_ops.server_for(switch.desired, phase.doc.plain_values())
    try:
        result = switch.c.data.prisma_read(server, image, migration.target_database,
                                           timeout=max(1.0, switch.deadline - started))
    except data_ops.DataOperationError as error:
        return f"the pre-copy's data is refused by {image}'s Prisma Client: {error}"
    switch.report["prismaPreCopy"] = {
        "image": image, "database": migration.target_database,
        "seconds": round(clock.monotonic() - started, 3),
        **{key: result.get(key) for key in ("prisma", "documents", "refused", "refusals")}}
    return None
