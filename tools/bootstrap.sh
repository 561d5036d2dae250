#!/usr/bin/env bash
# Installs the project's tools into the cache (tools/lib.sh). Each part is skipped when present.
#   bootstrap.sh test     what the test suite needs (Docker engine and local images when possible)
#   bootstrap.sh deploy   what a deployment to the local Docker engine needs
# Tools whose Go module the proxy here refuses are reported as unavailable, not as a failure:
# the suite runs without them (Automation API inline programs, Python dynamic providers).
# See docs/toolchain.md for versions, build times and what is refused.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"
what="${1:-test}"
case "$what" in
  test|deploy) ;;
  *) die "unknown target '$what' (expected: test, deploy)";;
esac
"$here/install-python.sh"

unavailable=()
# step SCRIPT: runs one build script; its exit 3 means 'refused here', anything else non-zero fails.
step() {
  local status=0
  "$here/$1" || status=$?
  case "$status" in
    0) ;;
    3) unavailable+=("$1") ;;
    *) die "$1 failed (exit $status); logs are in $MEESHY_LOGS" ;;
  esac
}

step build-ferretdb.sh
step build-mongo-tools.sh
step build-pulumi.sh
step build-pulumi-python.sh
step build-pulumi-command.sh
if [[ "$what" == deploy ]]; then
  step build-pulumi-docker.sh
  step build-docker-engine.sh
else
  # The suite's Docker tests (image verification, the compose takeover) need an engine and the
  # local images. Where the engine cannot be had they skip, saying why, and the rest still runs:
  # so a failure here is reported, not fatal.
  if "$here/build-docker-engine.sh" && "$here/build-images.sh"; then
    :
  else
    log "Docker engine or local images unavailable (exit $?): the tests marked 'docker' will skip; see $MEESHY_LOGS"
  fi
fi

if ((${#unavailable[@]})); then
  log "not available on this machine (see the .refused files in $MEESHY_BIN): ${unavailable[*]}"
fi
log "tools for '$what' are in $MEESHY_BIN (source tools/env.sh to use them)"
