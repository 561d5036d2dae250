#!/usr/bin/env bash
# Builds FerretDB (MongoDB wire protocol over SQLite), the test bed's real database, into
# $MEESHY_BIN/ferretdb. v1.x is the last line with the SQLite backend, so the version is pinned.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"
. "$here/build-common.sh"

module=github.com/FerretDB/FerretDB
version=v1.24.2
name=ferretdb

if is_built "$name" "$version"; then
  log "$name $version already built"
  exit 0
fi

begin_build "$name" "$version"

src="$(go_module_dir "$module" "$version" "$log_file")"
work="$MEESHY_SRC/$name-$version"
copy_module "$src" "$work"
# The module zip lacks the generated version file and the binary panics at start without it;
# building from the copy (main module = FerretDB) also makes --version report the real version.
printf '%s\n' "$version" >"$work/build/version/version.txt"
printf 'meeshy-infra\n' >"$work/build/version/package.txt"

(cd "$work" && run_logged "$log_file" go build -trimpath -o "$MEESHY_BIN/$name.tmp" ./cmd/ferretdb) \
  || die "go build of $module@$version failed (see $log_file)"
mv "$MEESHY_BIN/$name.tmp" "$MEESHY_BIN/$name"

# A binary that cannot even print its version is not worth stamping.
reports "version: $version" "$MEESHY_BIN/$name" --version \
  || die "$MEESHY_BIN/$name does not report $version (see $log_file)"
write_stamp "$name" "$version"
rm -rf "$work"
log "built $name $version in $(elapsed_since "$start")s"
