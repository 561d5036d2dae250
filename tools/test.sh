#!/usr/bin/env bash
# The README's test command: installs what the suite needs (once per machine, cached outside
# the clone), lints the tree (ruff.toml; a finding fails the command) and runs the whole suite.
# Extra arguments go to pytest.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
"$MEESHY_REPO_ROOT/tools/bootstrap.sh" test
cd "$MEESHY_REPO_ROOT"
"$MEESHY_VENV/bin/ruff" check --quiet .
exec "$MEESHY_VENV/bin/python" -m pytest "$@"
