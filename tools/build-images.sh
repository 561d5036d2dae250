#!/usr/bin/env bash
# Builds the local images a rehearsal runs (images/*/), once per machine, with nothing pulled.
# An image is skipped when its tag exists and carries the hash of the recipe it was built from,
# so editing a recipe rebuilds it and nothing else. Builds run one after another (2 cores).
#   build-images.sh            build what is missing or stale
#   build-images.sh --list     print the image settings a rehearsal stack uses (key ref)
#   build-images.sh --verify   build, then run every image and check its health (images/verify.sh)
#   build-images.sh --without-prisma   every image but the gateway tags, which carry Prisma Client:
#                              the bootstrap builds these while tools/build-prisma.sh compiles
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"
. "$here/build-common.sh"

images="$MEESHY_REPO_ROOT/images"
STANDIN_VERSION=1.0.0
BASE_TAG=meeshy-local/debian-base:bookworm
# recipe_hash DIR [EXTRA...]: what an image is built from; EXTRA names binaries' version stamps.
recipe_hash() {
  local dir="$1"; shift
  { (cd "$dir" && find . -type f ! -name '*.pyc' ! -path '*/__pycache__/*' -print0 | sort -z \
       | xargs -0 sha256sum); printf '%s\n' "$@"; } | sha256sum | cut -c1-16
}

TARGET_SCHEMA="$MEESHY_REPO_ROOT/migration/meeshy/schema.prisma"
LEGACY_SCHEMA="$MEESHY_REPO_ROOT/migration/meeshy/legacy/legacy-2026-01-22-cf31b1a00.prisma"
# variant_ref ROLE KIND SCHEMA_FILE [EXTRA_ENV]: a stand-in tag named by its contents: a hash of
# this checkout's files it is built from (the base and stand-in recipes, the schema, and for a
# gateway the Prisma Client's recipe). Two checkouts building different contents never share a
# tag, so no build or test of one replaces an image another is running; the same files give the
# same tag on every branch. No engine or tool is asked: `--list` stays cheap.
variant_ref() {
  local hash
  hash="$( { recipe_hash "$images/debian-base"; recipe_hash "$images/standin"; sha256sum <"$3"
             printf '%s\n' "$1" "$2" "${4:-}"
             if [[ "$1" == gateway ]]; then
               sha256sum "$here/build-prisma.sh" "$here/prisma-generate.sh" \
                 "$here/prisma-engine/Cargo.lock" "$here/prisma-engine/mongodb-only.patch" | cut -d' ' -f1
             fi; } | sha256sum | cut -c1-12)"
  printf 'meeshy-local/%s:%s-%s-%s\n' "$1" "$2" "$STANDIN_VERSION" "$hash"
}
UNHEALTHY_ENV=STANDIN_FORCE_UNHEALTHY=1
# meeshy:images key -> reference. The single place these tags are spelled; docs/images.md and
# images/verify.sh read them from `--list`.
declare -A REFS=(
  [traefik]=meeshy-local/traefik:v3.6.25
  [mongo]=meeshy-local/database:ferretdb-1.24.2
  [redis]=meeshy-local/redis:7.0-bookworm
  [static]=meeshy-local/static-files:1.22-bookworm
  [maintenance]=meeshy-local/static-files:1.22-bookworm
)
# The tools image carries this checkout's migration/ and steps/: its tag for tests and rehearsals
# names them too (another branch's programs, another tag). The stack files name it by the
# project's version alone (TOOLS_RELEASE_TAG), which the build tags when it is missing.
tools_sources() {  # the repository files the tools image carries, relative to the repository
  (cd "$MEESHY_REPO_ROOT" && find migration steps -type f \( -name '*.py' -o -name '*.prisma' \) \
     ! -path '*/__pycache__/*' | LC_ALL=C sort)
}
TOOLS_RELEASE_TAG="meeshy-local/meeshy-infra-tools:$(cat "$MEESHY_REPO_ROOT/VERSION")"
REFS[tools]="$TOOLS_RELEASE_TAG-$( { recipe_hash "$images/tools"; recipe_hash "$images/debian-base"
  cd "$MEESHY_REPO_ROOT" && tools_sources | xargs sha256sum VERSION; } | sha256sum | cut -c1-12)"
for role in translator gateway web; do
  REFS[$role]="$(variant_ref "$role" target "$TARGET_SCHEMA")"
  REFS[$role@legacy]="$(variant_ref "$role" legacy "$LEGACY_SCHEMA")"
done
REFS[gateway@unhealthy]="$(variant_ref gateway unhealthy "$TARGET_SCHEMA" "$UNHEALTHY_ENV")"
# The DocumentDB database (meeshy:database.server: documentdb): listed here, built by its own
# script (a long compile the bootstrap runs in the background).
REFS[mongo@documentdb]="$("$here/build-documentdb.sh" --tag)"
# Meeshy's real gateway, built from its source archive by its own script (the bootstrap runs it
# in the background once Prisma's engine is built): the gateway of a stack on DocumentDB.
REFS[gateway@meeshy]="$("$here/build-gateway-image.sh" --tag)"
KEY_ORDER=(traefik mongo redis translator gateway web static maintenance tools)

if [[ "${1:-}" == "--list" ]]; then
  for key in "${KEY_ORDER[@]}"; do printf '%s %s\n' "$key" "${REFS[$key]}"; done
  for key in translator@legacy gateway@legacy web@legacy gateway@unhealthy mongo@documentdb \
             gateway@meeshy; do
    printf '%s %s\n' "$key" "${REFS[$key]}"
  done
  exit 0
fi

log_file="$MEESHY_LOGS/build-images.log"
times_file="$MEESHY_LOGS/build-images.times"
export DOCKER_BUILDKIT=0   # Debian's engine has no BuildKit front end installed; be explicit

docker info >/dev/null 2>&1 || {
  log "no Docker engine answers: running tools/build-docker-engine.sh"
  "$here/build-docker-engine.sh"
  docker info >/dev/null 2>&1 || die "no Docker engine answers (docker info); start dockerd first"
}

is_current() {  # TAG HASH
  [[ "$(docker image inspect --format '{{index .Config.Labels "meeshy.recipe"}}' "$1" 2>/dev/null)" == "$2" ]]
}

record() {  # NAME TAG SECONDS
  local size
  size="$(docker image inspect --format '{{.Size}}' "$2")"
  printf '%s\t%s\t%ss\t%s MB\t%s\n' "$1" "$2" "$3" "$(( size / 1000000 ))" "$(date -u +%FT%TZ)" \
    >>"$times_file"
  log "built $2 in $3s ($(( size / 1000000 )) MB)"
}

# build NAME TAG CONTEXT HASH: docker build of a staged context, labelled with its recipe hash.
build() {
  local name="$1" tag="$2" context="$3" hash="$4" start old
  start=$(date +%s)
  old="$(docker image inspect --format '{{.Id}}' "$tag" 2>/dev/null || true)"
  log "building $tag (log: $log_file)"
  run_logged "$log_file" docker build --label "meeshy.recipe=$hash" -t "$tag" "$context" \
    || die "docker build of $tag failed (see $log_file)"
  record "$name" "$tag" "$(elapsed_since "$start")"
  drop_if_untagged "$old"
}

drop_if_untagged() {  # ID: the image a rebuild replaced, once nothing names or uses it
  [[ -n "$1" && "$(docker image inspect --format '{{len .RepoTags}}' "$1" 2>/dev/null)" == 0 ]] \
    && docker rmi "$1" >/dev/null 2>&1 || true
}

stage() {  # NAME: a fresh copy of images/NAME to add binaries to, outside the clone
  local dir="$MEESHY_TOOLS_DIR/images/context-$1"
  rm -rf "$dir" && mkdir -p "$dir" && cp -r "$images/$1/." "$dir/"
  find "$dir" -name '__pycache__' -prune -exec rm -rf {} +
  printf '%s\n' "$dir"
}

stamp_of() { cat "$(stamp_path "$1")" 2>/dev/null || echo none; }

# fetch_wheels REQUIREMENTS DEST: the wheels an image installs without an index. The host's pip
# fetches them: it trusts this network's TLS setup, a build container does not.
fetch_wheels() {
  run_logged "$log_file" "$MEESHY_VENV/bin/pip" download --only-binary=:all: --python-version 3.11 \
    --implementation cp --abi cp311 --platform manylinux_2_28_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform any \
    -d "$2" -r "$1" || die "pip download of $1 failed (see $log_file)"
}

# 1. Debian base (debootstrap + import; the tarball is cached by the recipe itself).
hash="$(recipe_hash "$images/debian-base")"
if is_current "$BASE_TAG" "$hash"; then
  log "$BASE_TAG is current"
else
  start=$(date +%s)
  MEESHY_RECIPE_HASH="$hash" run_logged "$log_file" "$images/debian-base/build.sh" "$BASE_TAG" \
    || die "building $BASE_TAG failed (see $log_file)"
  record debian-base "$BASE_TAG" "$(elapsed_since "$start")"
fi
base_id="$(docker image inspect --format '{{.Id}}' "$BASE_TAG")"

# 2-3. Servers from Debian's packages.
for name in redis static-files; do
  key=$([[ $name == redis ]] && echo redis || echo static)
  hash="$(recipe_hash "$images/$name" "$base_id")"
  is_current "${REFS[$key]}" "$hash" && { log "${REFS[$key]} is current"; continue; }
  build "$name" "${REFS[$key]}" "$images/$name" "$hash"
done

# 4. Database: FerretDB and mongo-tools from $MEESHY_BIN (built by their own scripts).
[[ -x "$MEESHY_BIN/ferretdb" ]] || "$here/build-ferretdb.sh"
[[ -x "$MEESHY_BIN/mongodump" && -x "$MEESHY_BIN/mongorestore" ]] || "$here/build-mongo-tools.sh"
hash="$(recipe_hash "$images/database" "$base_id" "ferretdb $(stamp_of ferretdb)" \
        "mongodump $(stamp_of mongodump)" "mongorestore $(stamp_of mongorestore)")"
if is_current "${REFS[mongo]}" "$hash"; then
  log "${REFS[mongo]} is current"
else
  ctx="$(stage database)"
  install -m 0755 "$MEESHY_BIN/ferretdb" "$MEESHY_BIN/mongodump" "$MEESHY_BIN/mongorestore" "$ctx/"
  chmod 0755 "$ctx/mongo_ping.py"
  build database "${REFS[mongo]}" "$ctx" "$hash"
  rm -rf "$ctx"
fi

# 5. Traefik from its Go module.
"$here/build-traefik.sh"
hash="$(recipe_hash "$images/traefik" "$base_id" "traefik $(stamp_of traefik)")"
if is_current "${REFS[traefik]}" "$hash"; then
  log "${REFS[traefik]} is current"
else
  ctx="$(stage traefik)"
  install -m 0755 "$MEESHY_BIN/traefik" "$ctx/"
  build traefik "${REFS[traefik]}" "$ctx" "$hash"
  rm -rf "$ctx"
fi

# 6. Stand-ins: one image, then one thin tag per role and schema (ENV and the schema file on top
#    of its layers).
standin_tag="meeshy-local/standin:$STANDIN_VERSION"
hash="$(recipe_hash "$images/standin" "$base_id")"
if is_current "$standin_tag" "$hash"; then
  log "$standin_tag is current"
else
  ctx="$(stage standin)"
  fetch_wheels "$images/standin/requirements.txt" "$ctx/wheels"
  build standin "$standin_tag" "$ctx" "$hash"
  rm -rf "$ctx"
fi
standin_id="$(docker image inspect --format '{{.Id}}' "$standin_tag")"
without_prisma=false
[[ "${1:-}" == "--without-prisma" ]] && without_prisma=true
$without_prisma || "$here/build-prisma.sh"   # the gateway tags carry Prisma Client (a no-op once built)
# Each role/schema tag carries the Prisma schema its release was written under, where the real
# gateway image keeps it (docs/images.md): the release step that checks the data against the
# images about to start copies it out from there.
SCHEMA_IN_IMAGE=/app/packages/shared/prisma/schema.prisma
# The gateway tags also carry what the real gateway image reads its data with: Prisma Client
# generated from the tag's schema (its query engine inside) where the real image keeps it, and a
# node to run it (this host's: the base image has none). The release reads the data with them.
CLIENT_IN_IMAGE=/app/packages/shared/prisma/client
variant() {  # TAG ROLE SCHEMA SCHEMA_FILE [EXTRA_ENV]
  local dockerfile vhash old ctx client=""
  dockerfile="$(printf 'FROM %s\nENV MEESHY_STANDIN_ROLE=%s MEESHY_SCHEMA=%s %s\nCOPY schema.prisma %s\n' \
    "$standin_tag" "$2" "$3" "${5:-}" "$SCHEMA_IN_IMAGE")"
  if [[ "$2" == gateway ]]; then
    $without_prisma && { log "$1 waits for Prisma Client (tools/build-prisma.sh)"; return 0; }
    client="$("$here/prisma-generate.sh" "$4")" || die "cannot generate Prisma Client for $4"
    dockerfile+="$(printf '\nCOPY node /usr/local/bin/node\nCOPY client %s\n' "$CLIENT_IN_IMAGE")"
  fi
  vhash="$(printf '%s %s %s' "$standin_id" "$dockerfile" \
    "$(sha256sum <"$4")${client:+ $(cat "$client/.meeshy-key") $(node --version)}" \
    | sha256sum | cut -c1-16)"
  is_current "$1" "$vhash" && return 0
  old="$(docker image inspect --format '{{.Id}}' "$1" 2>/dev/null || true)"
  ctx="$(mktemp -d)"
  install -m 0644 "$4" "$ctx/schema.prisma"
  if [[ -n "$client" ]]; then
    install -m 0755 "$(command -v node)" "$ctx/node"
    cp -r "$client" "$ctx/client" && chmod -R a+rX "$ctx/client"
  fi
  printf '%s\n' "$dockerfile" \
    | run_logged "$log_file" docker build --label "meeshy.recipe=$vhash" -t "$1" -f - "$ctx" \
    || { rm -rf "$ctx"; die "docker build of $1 failed (see $log_file)"; }
  rm -rf "$ctx"
  drop_if_untagged "$old"
  log "tagged $1"
}
for role in translator gateway web; do
  variant "${REFS[$role@legacy]}" "$role" legacy "$LEGACY_SCHEMA"
  variant "${REFS[$role]}" "$role" target "$TARGET_SCHEMA"
done
# A release that never turns healthy, for rehearsing the automatic rollback.
variant "${REFS[gateway@unhealthy]}" gateway target "$TARGET_SCHEMA" "$UNHEALTHY_ENV"

# 7. The tools image: the release steps' programs from this repository, at the project's version.
hash="$(recipe_hash "$images/tools" "$base_id" "mongodump $(stamp_of mongodump)" \
        "$(cd "$MEESHY_REPO_ROOT" && tools_sources | xargs sha256sum VERSION | sha256sum)")"
if is_current "${REFS[tools]}" "$hash"; then
  log "${REFS[tools]} is current"
else
  ctx="$(stage tools)"
  install -m 0755 "$MEESHY_BIN/mongodump" "$MEESHY_BIN/mongorestore" "$ctx/"
  mkdir -p "$ctx/app"
  (cd "$MEESHY_REPO_ROOT" && tools_sources | xargs cp --parents -t "$ctx/app") \
    || die "cannot stage the tools image's programs"
  fetch_wheels "$images/tools/requirements.txt" "$ctx/wheels"
  build tools "${REFS[tools]}" "$ctx" "$hash"
  rm -rf "$ctx"
fi
# Tagged once, when missing: a later build of another checkout never moves it under a deploy.
docker image inspect "$TOOLS_RELEASE_TAG" >/dev/null 2>&1 || docker tag "${REFS[tools]}" "$TOOLS_RELEASE_TAG"

log "images ready; settings for a rehearsal stack: $0 --list"
[[ "${1:-}" == "--verify" ]] && exec "$images/verify.sh"
exit 0
