#!/usr/bin/env bash
# The README's test command: installs what the suite needs (once per machine, cached outside
# the clone), lints the tree (ruff.toml; a finding fails the command) and runs the whole suite.
# Extra arguments go to pytest. The suite runs on MEESHY_TEST_WORKERS workers (2; 0 runs it in
# this process), whole test files to a worker (module fixtures are built once; the SSH host's
# tests share one file): most of an end-to-end test's time is spent waiting on containers and
# Pulumi, which a second file fills. Files go out in collection order, where tests/conftest.py
# puts the longest first; xdist's own order (most tests first) started them half-way through.
# A third worker was tried: the same wall time (1431 s), every e2e file slower by half.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
"$MEESHY_REPO_ROOT/tools/bootstrap.sh" test
cd "$MEESHY_REPO_ROOT"
"$MEESHY_VENV/bin/ruff" check --quiet .
workers="${MEESHY_TEST_WORKERS:-2}"
if [[ "$workers" == 0 ]]; then
  exec "$MEESHY_VENV/bin/python" -m pytest "$@"
fi
exec "$MEESHY_VENV/bin/python" -m pytest -n "$workers" --dist loadfile --no-loadscope-reorder "$@"
