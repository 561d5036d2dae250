"""Verification of a run: every source document accounted for, targets re-read and hashed,
references resolved; a live-source pre-copy checked for what it read (see ../README.md)."""
