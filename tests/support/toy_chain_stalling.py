"""The toy chain, in a process that stops itself where `MIGRATION_TEST_STALL` says
(tests/support/stall_hook.py)."""
from tests.support import stall_hook
from tests.support.toy_chain import CHAIN, SCHEMA_PATH

__all__ = ["CHAIN", "SCHEMA_PATH"]

stall_hook.install()
