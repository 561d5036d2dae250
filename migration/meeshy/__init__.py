"""The Meeshy chain: steps, target schema, transforms and the legacy dataset generator.

The engine reads CHAIN (the ordered steps, with the operators' decisions), SCHEMA_PATH (the
target models in Prisma syntax) and, for `--decision`, DECISIONS and build_chain(decisions)
from here; see migration/engine/README.md.
"""
from .coerce import SCHEMA_PATH
from .decisions import DECISIONS
from .steps import CHAIN, build_chain

__all__ = ["CHAIN", "DECISIONS", "SCHEMA_PATH", "build_chain"]
