"""Moves Meeshy's data from the legacy shape to the target schema (see migration/engine/README.md)."""
