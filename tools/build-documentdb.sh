#!/usr/bin/env bash
# The DocumentDB database image for local stacks (images/documentdb/): PostgreSQL 15 and its
# libraries from Debian, the DocumentDB extension (pg_documentdb_core, pg_documentdb), pgvector,
# pg_cron and DocumentDB's MongoDB gateway (pg_documentdb_gw) built from the source archives in
# $MEESHY_PLUGIN_SOURCES, checked against its SHA256SUMS. Nothing is pulled.
#   build-documentdb.sh                  build what is missing or stale, then the image
#   build-documentdb.sh --tag            print the image's tag (no build, no engine asked)
#   build-documentdb.sh --packages       install the Debian packages the compile needs, only
#                                        (the bootstrap does it before anything else runs apt)
#   build-documentdb.sh --wait-base SEC  wait up to SEC seconds for the base image (the
#                                        bootstrap runs this in the background while
#                                        tools/build-images.sh makes the base)
# The compiles run on this host, which is Debian 12 like the image: the C extension against
# Debian's postgresql-server-dev-15 (installed when missing), the gateway with cargo (crates.io).
# Each result is cached outside the clone under the hash of its inputs, so a rebuilt image or a
# pruned engine costs an apt install and a COPY, not a compile. The tag is named by the recipe's
# contents; an image carrying that tag is current. Progress goes to $MEESHY_LOGS/documentdb.status
# ("building", "failed: ...", "ready TAG") for whoever waits on it (testing/documentdb.py).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"
. "$here/build-common.sh"

VERSION=0.106.0
BASE_TAG=meeshy-local/debian-base:bookworm
recipe="$MEESHY_REPO_ROOT/images/documentdb"
GATEWAY_PATCH="$MEESHY_REPO_ROOT/tools/documentdb/gateway-one-listener.patch"
# NAME CHECKSUM: the archives, by the checksums their SHA256SUMS lines must give.
archives=(
  "documentdb-v0.106.0-ferretdb-2.5.0.tar.gz a8010605f818fe37e52ce27873b46abcab63e20ba9140d27c98aa0c724f53cf9"
  "pgvector-0.8.0.tar.gz f735d37c1f8a32a0c46f29db63860bdc1ed06a423d4280767afbd38f1fe58778"
  "pg_cron-1.6.3.tar.gz 105b669241ea200f0e9a5ffbc2c4e8c33b0dfaba2b13e06cdb4621382b7995d5"
)
DEV_PACKAGES=(gcc make pkg-config postgresql-server-dev-15 libbson-dev libpcre2-dev
              libintelrdfpmath-dev libkrb5-dev libssl-dev)
# Debian's libbson (1.23) lacks this constant of newer releases; the switch over subtypes then
# misses a case, which is not an error for this build. No LLVM bitcode (no clang here).
DOCUMENTDB_COPT="-DBSON_SUBTYPE_SENSITIVE=8 -Wno-error=switch"
cache="$MEESHY_TOOLS_DIR/documentdb"
status_file="$MEESHY_LOGS/documentdb.status"
log_file="$MEESHY_LOGS/build-documentdb.log"

# inputs_hash [FUNCTION EXTRA...]: the archives, and the text of the function that builds one
# part with what else it depends on; editing the image's part of this script recompiles nothing.
inputs_hash() {
  { printf '%s\n' "${archives[@]}"; [[ -n "${1:-}" ]] && declare -f "$1"; printf '%s\n' "${@:2}"
  } | sha256sum | cut -c1-16
}

image_tag() {  # named by everything the image is built from, spelled out by files only
  local hash
  hash="$( { inputs_hash; sha256sum <"$0"; for dir in "$recipe" "$MEESHY_REPO_ROOT/images/debian-base"; do
               (cd "$dir" && find . -type f -print0 | sort -z | xargs -0 sha256sum); done
             cat "$MEESHY_REPO_ROOT/images/database/mongo_ping.py" "$here/build-mongo-tools.sh" \
                 "$GATEWAY_PATCH" | sha256sum
           } | sha256sum | cut -c1-12)"
  printf 'meeshy-local/database:documentdb-%s-%s\n' "$VERSION" "$hash"
}

if [[ "${1:-}" == "--tag" ]]; then image_tag; exit 0; fi
wait_base=0
[[ "${1:-}" == "--wait-base" ]] && wait_base="${2:?--wait-base needs a number of seconds}"

mkdir -p "$cache"
status() { printf '%s\n' "$*" >"$status_file"; }
fail() { status "failed: $*"; die "$*"; }

ensure_dev_packages() {
  local missing=() pkg
  for pkg in "${DEV_PACKAGES[@]}"; do
    [[ "$(dpkg-query -W -f '${Status}' "$pkg" 2>/dev/null || true)" == "install ok installed" ]] \
      || missing+=("$pkg")
  done
  ((${#missing[@]} == 0)) && return 0
  [[ "$(id -u)" == 0 ]] || fail "missing Debian packages ${missing[*]}; install them (as root)"
  log "installing Debian's ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  local install=(apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends)
  run_logged "$log_file" "${install[@]}" "${missing[@]}" \
    || { run_logged "$log_file" apt-get update -q \
         && run_logged "$log_file" "${install[@]}" "${missing[@]}"; } \
    || fail "apt-get install ${missing[*]} failed (see $log_file)"
}

check_archives() {
  local entry want
  [[ -n "${MEESHY_PLUGIN_SOURCES:-}" ]] || fail "MEESHY_PLUGIN_SOURCES is not set: DocumentDB is \
built from ${archives[0]%% *} and two more archives in that directory (docs/toolchain.md)"
  for entry in "${archives[@]}"; do
    want="$(awk -v f="${entry%% *}" '$2 == f || $2 == "*" f { print $1; exit }' \
      "$MEESHY_PLUGIN_SOURCES/SHA256SUMS" 2>/dev/null || true)"
    [[ "$want" == "${entry##* }" ]] || fail "$MEESHY_PLUGIN_SOURCES/SHA256SUMS does not give \
${entry%% *} the checksum this script was written for (${entry##* }); nothing was built"
  done
}

# The extension and its two dependencies, installed into a DESTDIR tree kept as a tarball.
build_extension() {  # TARBALL
  local work="$MEESHY_SRC/documentdb-ext" stage docdb pg=(with_llvm=no)
  ensure_dev_packages
  rm -rf "$work" && mkdir -p "$work"
  for entry in "${archives[@]}"; do unpack_source "${entry%% *}" "$work/${entry%%.tar.gz*}" "$log_file"; done
  stage="$work/stage" docdb="$work/documentdb-v0.106.0-ferretdb-2.5.0/documentdb-v0.106.0-ferretdb-2.5.0"
  # The build looks the Intel decimal library up as pkg-config `intelmathlib`: Debian ships the
  # static library without a .pc file.
  mkdir -p "$work/pkgconfig"
  printf 'Name: intelmathlib\nDescription: Debian libintelrdfpmath-dev\nVersion: 2.0\nLibs: -lbidgcc000\nCflags:\n' \
    >"$work/pkgconfig/intelmathlib.pc"
  export PKG_CONFIG_PATH="$work/pkgconfig"
  # pgvector compiles with -march=native unless told otherwise: the image must run elsewhere.
  (cd "$work/pgvector-0.8.0/pgvector-0.8.0" && run_logged "$log_file" make -j2 "${pg[@]}" OPTFLAGS= \
     && run_logged "$log_file" make install "${pg[@]}" OPTFLAGS= DESTDIR="$stage") \
    || fail "pgvector failed to build (see $log_file)"
  (cd "$work/pg_cron-1.6.3/pg_cron-1.6.3" && run_logged "$log_file" make -j2 "${pg[@]}" \
     && run_logged "$log_file" make install "${pg[@]}" DESTDIR="$stage") \
    || fail "pg_cron failed to build (see $log_file)"
  for part in pg_documentdb_core pg_documentdb; do
    (cd "$docdb" && run_logged "$log_file" make -C "$part" -j2 "${pg[@]}" COPT="$DOCUMENTDB_COPT" \
       && run_logged "$log_file" make -C "$part" install "${pg[@]}" COPT="$DOCUMENTDB_COPT" DESTDIR="$stage") \
      || fail "$part failed to build (see $log_file)"
  done
  tar -C "$stage" -cf "$1.tmp" . && mv "$1.tmp" "$1"
  rm -rf "$work"
}

# The gateway, a release build (its target folder kept: crates are reused after a change).
build_gateway() {
  local work="$MEESHY_SRC/documentdb-gw"
  command -v cargo >/dev/null || fail "cargo is missing: install a Rust toolchain (rustup, stable)"
  rm -rf "$work" && mkdir -p "$work"
  unpack_source "${archives[0]%% *}" "$work" "$log_file"
  # Upstream binds a new listener for every connection it accepts and drops the old one, which
  # resets the connections still queued on it: mongodump's parallel connections, a client's pool.
  (cd "$work"/documentdb-*/ && run_logged "$log_file" patch -p1 -i "$GATEWAY_PATCH") \
    || fail "$GATEWAY_PATCH does not apply (see $log_file)"
  (cd "$work"/documentdb-*/pg_documentdb_gw \
     && CARGO_TARGET_DIR="$MEESHY_SRC/documentdb-gw-target" run_logged "$log_file" \
          cargo build --locked --release) \
    || fail "cargo build of pg_documentdb_gw failed (see $log_file)"
  install -m 0755 "$MEESHY_SRC/documentdb-gw-target/release/documentdb_gateway" "$MEESHY_BIN/pg_documentdb_gw"
  rm -rf "$work"
}

: >>"$log_file"
if [[ "${1:-}" == "--packages" ]]; then ensure_dev_packages; exit 0; fi
status building
ext_hash="$(inputs_hash build_extension "$DOCUMENTDB_COPT" "${DEV_PACKAGES[*]}")"
extension="$cache/extension-$ext_hash.tar"
gw_hash="$(inputs_hash build_gateway "$(rustc --version 2>/dev/null || echo no-rustc)" \
  "$(sha256sum <"$GATEWAY_PATCH")")"
pids=()
if ! is_built pg_documentdb_gw "$gw_hash"; then
  check_archives
  ( start=$(date +%s); log "building pg_documentdb_gw (log: $log_file)"; build_gateway
    write_stamp pg_documentdb_gw "$gw_hash"; log "built pg_documentdb_gw in $(elapsed_since "$start")s" ) &
  pids+=($!)
fi
if [[ ! -s "$extension" ]]; then
  check_archives
  ( start=$(date +%s); log "building the DocumentDB extension $VERSION (log: $log_file)"
    build_extension "$extension"
    find "$cache" -name 'extension-*.tar' ! -path "$extension" -delete
    log "built the DocumentDB extension in $(elapsed_since "$start")s" ) &
  pids+=($!)
fi
for pid in "${pids[@]}"; do wait "$pid" || fail "a DocumentDB build failed (see $log_file)"; done

# The image: the base, Debian's PostgreSQL 15 and the results above.
export DOCKER_BUILDKIT=0   # Debian's engine has no BuildKit front end installed; be explicit
tag="$(image_tag)"
for ((waited = 0; ; waited += 5)); do
  docker image inspect "$BASE_TAG" >/dev/null 2>&1 && break
  ((waited < wait_base)) || fail "the base image $BASE_TAG is missing: run tools/build-images.sh"
  sleep 5
done
[[ -x "$MEESHY_BIN/mongodump" && -x "$MEESHY_BIN/mongorestore" ]] || "$here/build-mongo-tools.sh"
label="$(printf '%s\n' "$tag" "$(docker image inspect --format '{{.Id}}' "$BASE_TAG")" "$ext_hash" \
  "$gw_hash" "$(cat "$(stamp_path mongodump)" "$(stamp_path mongorestore)")" | sha256sum | cut -c1-16)"
if [[ "$(docker image inspect --format '{{index .Config.Labels "meeshy.recipe"}}' "$tag" 2>/dev/null)" == "$label" ]]; then
  log "$tag is current"
else
  start=$(date +%s)
  ctx="$(mktemp -d "$cache/context.XXXXXX")"
  cp -r "$recipe/." "$ctx/"
  install -m 0755 "$MEESHY_REPO_ROOT/images/database/mongo_ping.py" "$ctx/mongo_ping.py"
  install -m 0755 "$MEESHY_BIN/pg_documentdb_gw" "$MEESHY_BIN/mongodump" "$MEESHY_BIN/mongorestore" "$ctx/"
  mkdir -p "$ctx/ext" && tar -C "$ctx/ext" -xf "$extension"
  log "building $tag (log: $log_file)"
  run_logged "$log_file" docker build --label "meeshy.recipe=$label" -t "$tag" "$ctx" \
    || { rm -rf "$ctx"; fail "docker build of $tag failed (see $log_file)"; }
  rm -rf "$ctx"
  log "built $tag in $(elapsed_since "$start")s"
fi
status "ready $tag"
