"""Errors the CLI turns into exit codes and plain sentences (never tracebacks)."""


class MigrationError(Exception):
    """Anything that stops a migration; exit code 1."""
    exit_code = 1


class ConfigError(MigrationError):
    """Bad usage or configuration (URIs, chain, schema, --to); exit code 2."""
    exit_code = 2


class CoverageError(MigrationError):
    """Source data the chain would lose silently (unmapped field or collection); exit code 3."""
    exit_code = 3
