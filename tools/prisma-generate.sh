#!/usr/bin/env bash
# Generates Prisma Client 6.19 for one schema.prisma, with the query engine tools/build-prisma.sh
# built (nothing downloaded), and prints the client's directory on stdout.
#   prisma-generate.sh SCHEMA [OUTDIR]
# Without OUTDIR the client goes to $MEESHY_TOOLS_DIR/prisma/clients/<schema hash>/ and is reused
# while the schema, the engine and the npm packages are unchanged; there `require(DIR)` finds
# @prisma/client's runtime in the node_modules beside it. An OUTDIR elsewhere needs
# node_modules/@prisma/client in one of its parents (as in the gateway image: /app/node_modules).
# The schema's own generator blocks are replaced by one prisma-client-js generator with
# binaryTargets = ["native"], so it may be any schema, Meeshy's included.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"
. "$here/build-common.sh"

schema="${1:?usage: prisma-generate.sh SCHEMA [OUTDIR]}"
[[ -f "$schema" ]] || die "schema $schema is not a file"
prisma_dir="$MEESHY_TOOLS_DIR/prisma"
library="$prisma_dir/libquery_engine-debian-openssl-3.0.x.so.node"
prisma_cli="$prisma_dir/node_modules/.bin/prisma"
[[ -f "$library" && -x "$prisma_cli" ]] || die "Prisma is not built: run tools/build-prisma.sh"
key="$( { sha256sum <"$schema"; cat "$(stamp_path prisma-engine)" "$(stamp_path prisma-npm)"; } \
        | sha256sum | cut -c1-16)"
out="${2:-$prisma_dir/clients/$key}"
if [[ -f "$out/index.js" && "$(cat "$out/.meeshy-key" 2>/dev/null)" == "$key" ]]; then
  printf '%s\n' "$out"
  exit 0
fi
mkdir -p "$out"
out="$(cd "$out" && pwd)"
# Inside the npm project: generate finds @prisma/client from the schema's folder upwards, and
# would otherwise try to npm-install it beside the schema.
work="$(mktemp -d "$prisma_dir/generate.XXXXXX")"
trap 'rm -rf "$work"' EXIT
{ printf 'generator client {\n  provider      = "prisma-client-js"\n  output        = "%s"\n' "$out"
  printf '  binaryTargets = ["native"]\n}\n\n'
  # Every other generator block out: they would name outputs and targets of another machine.
  awk '/^[[:space:]]*generator[[:space:]]+[A-Za-z_0-9]+[[:space:]]*\{/ { skip = 1 }
       !skip { print } skip && /^[[:space:]]*\}/ { skip = 0 }' "$schema"; } >"$work/schema.prisma"
log_file="$MEESHY_LOGS/prisma-generate.log"
# The schema engine is never used by generate, which would otherwise download one.
printf '#!/bin/sh\necho "no schema engine here" >&2\nexit 1\n' >"$work/schema-engine"
chmod +x "$work/schema-engine"
PRISMA_QUERY_ENGINE_LIBRARY="$library" PRISMA_SCHEMA_ENGINE_BINARY="$work/schema-engine" \
PRISMA_ENGINES_CHECKSUM_IGNORE_MISSING=1 CHECKPOINT_DISABLE=1 PRISMA_HIDE_UPDATE_MESSAGE=1 \
  run_logged "$log_file" "$prisma_cli" generate --schema "$work/schema.prisma" \
  || die "prisma generate of $schema failed (see $log_file)"
printf '%s\n' "$key" >"$out/.meeshy-key"
printf '%s\n' "$out"
