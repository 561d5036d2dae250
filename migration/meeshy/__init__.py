"""The Meeshy chain: steps, target schema, transforms and the legacy dataset generator."""
