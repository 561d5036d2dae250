#!/usr/bin/env bash
# Installs the pulumi-command resource provider at the version of the pinned Python SDK
# (pulumi-command==1.2.1) into the plugin cache as 'resource command 1.2.1': already installed,
# else downloaded by `pulumi plugin install`, else built from pulumi-command-1.2.1.tar.gz in
# $MEESHY_PLUGIN_SOURCES (checked against its SHA256SUMS).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"
. "$here/build-common.sh"

version=1.2.1
name=pulumi-resource-command

if plugin_installed resource command "$version"; then
  log "$name $version already installed"
  exit 0
fi
[[ -x "$MEESHY_BIN/pulumi" ]] || die "$MEESHY_BIN/pulumi is missing: run tools/build-pulumi.sh first"
begin_build "$name" "$version"
if try_plugin_download resource command "$version" "$log_file"; then
  log "downloaded $name $version in $(elapsed_since "$start")s"
  exit 0
fi

work="$MEESHY_SRC/pulumi-command-$version"
unpack_source "pulumi-command-$version.tar.gz" "$work" "$log_file"
(cd "$work/pulumi-command-$version/provider" && run_logged "$log_file" go build -trimpath -mod=mod \
    -ldflags "-X github.com/pulumi/pulumi-command/provider/pkg/version.Version=$version" \
    -o "$work/$name" ./cmd/pulumi-resource-command) \
  || die "go build of pulumi-command $version failed (see $log_file)"
install_plugin resource command "$version" "$work/$name" "$log_file"
rm -rf "$work"
log "built and installed $name $version in $(elapsed_since "$start")s"
