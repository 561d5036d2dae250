"""Fixtures several unit test modules share: the deployed snapshot of the switch-flow tests."""
from tests.unit.ops.test_ops_switch_flow import deployed  # noqa: F401 - a fixture, found by pytest here
