#!/usr/bin/env bash
# Builds the pulumi-command resource provider at the version of the pinned Python SDK
# (pulumi-command==1.2.1) and installs it into the plugin cache as 'resource command 1.2.1'.
# Exit 3: the module proxy refuses the provider module here (recorded in $MEESHY_BIN/.NAME.refused).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"
. "$here/build-common.sh"

module=github.com/pulumi/pulumi-command/provider
# The provider module has no tags of its own: this is the pseudo-version of the v1.2.1 commit.
module_version=v0.0.0-20260303235922-7f3eb6f3b77c
version=1.2.1
name=pulumi-resource-command

plugin_preflight "$name" "$version" command

begin_build "$name" "$version"

src="$(require_module "$name" "$module" "$module_version" "$log_file")"
work="$MEESHY_SRC/pulumi-command-$version"
copy_module "$src" "$work"
if ! is_built "$name" "$version"; then
  (cd "$work" && run_logged "$log_file" go build -trimpath \
      -ldflags "-X github.com/pulumi/pulumi-command/provider/pkg/version.Version=v$version" \
      -o "$MEESHY_BIN/$name.tmp" ./cmd/pulumi-resource-command) \
    || die "go build of $module@$module_version failed (see $log_file)"
  mv "$MEESHY_BIN/$name.tmp" "$MEESHY_BIN/$name"
  write_stamp "$name" "$version"
fi
install_plugin resource command "$version" "$MEESHY_BIN/$name" "$log_file"
rm -rf "$work"
log "built and installed $name $version in $(elapsed_since "$start")s"
