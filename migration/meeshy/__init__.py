"""The Meeshy chain: steps, target schema, transforms and the legacy dataset generator.

The engine reads CHAIN (the ordered steps) and SCHEMA_PATH (the target models in Prisma
syntax) from here; see migration/engine/README.md.
"""
from .coerce import SCHEMA_PATH
from .steps import CHAIN

__all__ = ["CHAIN", "SCHEMA_PATH"]
