#!/usr/bin/env bash
# Installs the pulumi-docker resource provider at the version of the pinned Python SDK
# (pulumi-docker==5.1.0) into the plugin cache as 'resource docker 5.1.0': already installed,
# else downloaded by `pulumi plugin install`, else built from pulumi-docker-5.1.0.tar.gz in
# $MEESHY_PLUGIN_SOURCES (checked against its SHA256SUMS): the provider, the upstream Terraform
# provider it wraps (with the release's patches) and the schema the binary embeds.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"
. "$here/build-common.sh"

version=5.1.0
name=pulumi-resource-docker

if plugin_installed resource docker "$version"; then
  log "$name $version already installed"
  exit 0
fi
[[ -x "$MEESHY_BIN/pulumi" ]] || die "$MEESHY_BIN/pulumi is missing: run tools/build-pulumi.sh first"
begin_build "$name" "$version"
if try_plugin_download resource docker "$version" "$log_file"; then
  log "downloaded $name $version in $(elapsed_since "$start")s"
  exit 0
fi

work="$MEESHY_SRC/pulumi-docker-$version"
unpack_source "pulumi-docker-$version.tar.gz" "$work" "$log_file"
tree="$work/pulumi-docker-$version"
# The release patches upstream (the `shim` package the provider imports, a registry TLS fix).
for patch in "$tree"/patches/*.patch; do
  (cd "$tree/upstream" && run_logged "$log_file" patch -p1 -i "$patch") \
    || die "patch $(basename "$patch") does not apply (see $log_file)"
done
(cd "$tree/provider/cmd/$name" && VERSION="v$version" run_logged "$log_file" go run -mod=mod ./generate.go) \
  || die "schema generation of pulumi-docker $version failed (see $log_file)"
# no_compose: the compose resources need a Docker CLI plugin build this project never uses.
(cd "$tree/provider" && run_logged "$log_file" go build -mod=mod -tags no_compose -trimpath \
    -ldflags "-s -w -X github.com/pulumi/pulumi-docker/provider/v5/pkg/version.Version=v$version" \
    -o "$work/$name" "./cmd/$name") \
  || die "go build of pulumi-docker $version failed (see $log_file)"
install_plugin resource docker "$version" "$work/$name" "$log_file"
rm -rf "$work"
log "built and installed $name $version in $(elapsed_since "$start")s"
