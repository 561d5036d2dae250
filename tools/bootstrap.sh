#!/usr/bin/env bash
# Installs the project's tools into the cache (tools/lib.sh). Each part is skipped when present,
# so a second run costs seconds.
#   bootstrap.sh test     everything the suite needs: tools, plugins, a Docker engine, local images
#   bootstrap.sh deploy   what a deployment to the local Docker engine needs (no local images)
# Prisma Client and its query engine (test only) are built from source archives in
# $MEESHY_PLUGIN_SOURCES too (tools/build-prisma.sh).
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
  "$here/$1" "${@:2}" || die "$1 failed (exit $?); logs are in $MEESHY_LOGS"
}

# Prisma's query engine is a cargo build of several minutes that needs nothing the Go builds
# make: it runs beside them and beside the images (their downloads, debootstrap and package
# installs leave the cores idle at times); only the gateway tags, which carry Prisma Client,
# wait for it.
if [[ "$what" == test ]]; then
  step install-node.sh     # Prisma's npm packages and generate run on it
  "$here/build-prisma.sh" >"$MEESHY_LOGS/bootstrap-prisma.log" 2>&1 &
  prisma_pid=$!
  # The DocumentDB image (tools/build-documentdb.sh): a compile of about 15 CPU-minutes that
  # only the tests run on DocumentDB need. It outlives the bootstrap: those tests wait for its
  # image (testing/documentdb.py), the rest of the suite does not. At a lower priority, so the
  # steps the suite waits on get the cores first; its Debian packages are installed here, before
  # any other step runs apt. A failed bootstrap stops it.
  step build-documentdb.sh --packages
  setsid nice -n 10 "$here/build-documentdb.sh" --wait-base 3600 \
    >"$MEESHY_LOGS/bootstrap-documentdb.log" 2>&1 </dev/null &
  background=($!)
  # A failed bootstrap stops the builds it left running in the background.
  trap 'code=$?; (( code == 0 )) || for pid in "${background[@]}"; do kill -- "-$pid" 2>/dev/null || true; done' EXIT
fi
step build-ferretdb.sh
step build-mongo-tools.sh
step build-pulumi.sh
step build-pulumi-python.sh
step build-pulumi-command.sh
step build-pulumi-docker.sh
step build-docker-engine.sh
if [[ "$what" == test ]]; then
  "$here/build-images.sh" --without-prisma \
    || die "build-images.sh --without-prisma failed (exit $?); logs are in $MEESHY_LOGS"
  prisma_rc=0
  wait "$prisma_pid" || prisma_rc=$?
  cat "$MEESHY_LOGS/bootstrap-prisma.log" >&2
  (( prisma_rc == 0 )) || die "build-prisma.sh failed (exit $prisma_rc); logs are in $MEESHY_LOGS"
  # Meeshy's real gateway image (tools/build-gateway-image.sh, about 2 minutes cold): it needs
  # the Prisma engine and the base image, both there now. Like DocumentDB it outlives the
  # bootstrap, at a lower priority: only tests/e2e/test_real_gateway.py runs it, and waits for
  # it (testing/real_gateway.py). The status is written first so no test sees "no build".
  printf 'building\n' >"$MEESHY_LOGS/gateway-image.status"
  setsid nice -n 10 "$here/build-gateway-image.sh" --wait-base 600 \
    >"$MEESHY_LOGS/bootstrap-gateway.log" 2>&1 </dev/null &
  background+=($!)
  step build-images.sh     # the gateway tags, now that Prisma Client can be generated
fi
log "tools for '$what' are in $MEESHY_BIN (source tools/env.sh to use them), in $(( $(date +%s) - started ))s"
