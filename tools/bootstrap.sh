#!/usr/bin/env bash
# Installs the project's tools into the cache (tools/lib.sh). Each part is skipped when present,
# so a second run costs seconds.
#   bootstrap.sh test     everything the suite needs: tools, plugins, a Docker engine, local images
#   bootstrap.sh deploy   what a deployment to the local Docker engine needs (no local images)
# Pulumi plugins come, in this order, from the plugin cache, from `pulumi plugin install` where the
# host can download them, or from the source archives in $MEESHY_PLUGIN_SOURCES (air-gapped hosts).
# See docs/toolchain.md for versions, build times and recipes.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"
what="${1:-test}"
case "$what" in
  test|deploy) ;;
  *) die "unknown target '$what' (expected: test, deploy)";;
esac
started=$(date +%s)
"$here/install-python.sh"

# step SCRIPT: one build script; any failure stops the bootstrap, naming the script and its log.
step() {
  "$here/$1" || die "$1 failed (exit $?); logs are in $MEESHY_LOGS"
}

step build-ferretdb.sh
step build-mongo-tools.sh
step build-pulumi.sh
step build-pulumi-python.sh
step build-pulumi-command.sh
step build-pulumi-docker.sh
step build-docker-engine.sh
if [[ "$what" == test ]]; then
  step install-node.sh
  step build-images.sh
fi
log "tools for '$what' are in $MEESHY_BIN (source tools/env.sh to use them), in $(( $(date +%s) - started ))s"
