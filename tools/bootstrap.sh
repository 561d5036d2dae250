#!/usr/bin/env bash
# Installs the project's tools into the cache (tools/lib.sh). Each part is skipped when present.
#   bootstrap.sh test     what the test suite needs
#   bootstrap.sh deploy   what a deployment to the local Docker engine needs
set -euo pipefail
here="$(dirname "$0")"
. "$here/lib.sh"
what="${1:-test}"
"$here/install-python.sh"
case "$what" in
  test|deploy) ;;
  *) die "unknown target '$what' (expected: test, deploy)";;
esac
