#!/usr/bin/env bash
# Builds mongodump and mongorestore (MongoDB Database Tools) into $MEESHY_BIN: the migration's
# backup and restore steps shell out to them, so the tests need the real programs.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"
. "$here/build-common.sh"

module=github.com/mongodb/mongo-tools
# The 100.18.0 commit (v0.0.0-20260812163951-21a342dfee64, also asked for by hash and tag) is
# refused by the module proxy here. This is the newest commit it serves: main after 100.12.2.
version=v0.0.0-20250715155915-887641268977
tools_version=100.12.2+887641268977
mains=(mongodump mongorestore)

all_built=true
for name in "${mains[@]}"; do is_built "$name" "$version" || all_built=false; done
if $all_built; then
  log "mongo-tools $version already built"
  exit 0
fi

begin_build mongo-tools "$version"

# The checksum database here has no entry for any served mongo-tools version, while the proxy
# serves the zip; go.sum of the copy still pins every dependency.
export GONOSUMDB="${GONOSUMDB:+$GONOSUMDB,}$module"
src="$(go_module_dir "$module" "$version" "$log_file")"
work="$MEESHY_SRC/mongo-tools-$version"
copy_module "$src" "$work"
# The zip carries vendor/modules.txt but none of the vendored code.
rm -rf "$work/vendor"

for name in "${mains[@]}"; do
  (cd "$work" && run_logged "$log_file" go build -trimpath -mod=mod \
      -ldflags "-X main.VersionStr=$tools_version -X main.GitCommit=${version##*-}" \
      -o "$MEESHY_BIN/$name.tmp" "./$name/main") \
    || die "go build of $module@$version ($name) failed (see $log_file)"
  mv "$MEESHY_BIN/$name.tmp" "$MEESHY_BIN/$name"
  reports "$tools_version" "$MEESHY_BIN/$name" --version \
    || die "$MEESHY_BIN/$name does not report $tools_version (see $log_file)"
  write_stamp "$name" "$version"
done
rm -rf "$work"
log "built ${mains[*]} in $(elapsed_since "$start")s"
