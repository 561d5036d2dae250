"""Copies the Prisma schema an application image carries onto this host, for the release step
that validates the data against it before the image's containers start.

    python -m steps.image_schema --image IMAGE --path PATH_IN_IMAGE --out FILE [--docker-host H]

stdout is one JSON object {image, path, file, sha256, models}; a missing image or file, or a
file that is not a Prisma schema, is one sentence on stderr and exit 2.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

from migration.engine.errors import MigrationError
from migration.engine.validation.image_schema import DEFAULT_PATH_IN_IMAGE, copy_schema
from migration.engine.validation.schema import load_schema


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m steps.image_schema", description=__doc__)
    parser.add_argument("--image", required=True)
    parser.add_argument("--path", default=DEFAULT_PATH_IN_IMAGE)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--docker-host")
    args = parser.parse_args(argv)
    try:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.unlink(missing_ok=True)    # never validate against a previous image's copy
        copy_schema(args.image, args.out, args.path, docker_host=args.docker_host)
        schema = load_schema(args.out)
    except (MigrationError, OSError, UnicodeDecodeError) as error:
        print(f"error: schema of {args.image}: {error}", file=sys.stderr)
        return 2
    print(json.dumps({"image": args.image, "path": args.path, "file": str(args.out),
                      "sha256": hashlib.sha256(args.out.read_bytes()).hexdigest(),
                      "models": len(schema.models)}, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
