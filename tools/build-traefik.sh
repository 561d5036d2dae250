#!/usr/bin/env bash
# Builds Traefik v3.6 from its Go module into $MEESHY_BIN/traefik, for the local traefik image.
# v3.6.25 is pinned because it is the v3.6 release the module proxy serves here (v3.6.24 and
# v3.6.26..30 are refused) and its only replaces are forks published as ordinary modules.
# v3.7.x replaces a nested module by a relative path that is not in the zip, so it cannot build.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"
. "$here/build-common.sh"

module=github.com/traefik/traefik/v3
version=v3.6.25
codename=meeshy-infra   # the release codename is not in the module; mark the build as ours instead
name=traefik

# build-images.sh calls this script too: one build at a time, the second waits then skips.
exec 9>"$MEESHY_SRC/.$name.lock"
flock 9
if is_built "$name" "$version"; then
  log "$name $version already built"
  exit 0
fi

begin_build "$name" "$version"

src="$(go_module_dir "$module" "$version" "$log_file")"
work="$MEESHY_SRC/$name-$version"
copy_module "$src" "$work"
# The zip ships webui/static with only a placeholder file: the embed compiles, the dashboard
# is empty (its npm build is not part of the module), and routing is unaffected.
# Same flags as the project's Makefile `binary` target, minus the webui step.
(cd "$work" && run_logged "$log_file" go build -trimpath -mod=mod -ldflags "-s -w \
  -X github.com/traefik/traefik/v3/pkg/version.Version=$version \
  -X github.com/traefik/traefik/v3/pkg/version.Codename=$codename \
  -X github.com/traefik/traefik/v3/pkg/version.BuildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  -o "$MEESHY_BIN/$name.tmp" ./cmd/traefik) \
  || die "go build of $module@$version failed (see $log_file)"
mv "$MEESHY_BIN/$name.tmp" "$MEESHY_BIN/$name"

reports "$version" "$MEESHY_BIN/$name" version \
  || die "$MEESHY_BIN/$name does not report $version (see $log_file)"
write_stamp "$name" "$version"
rm -rf "$work"
log "built $name $version in $(elapsed_since "$start")s"
