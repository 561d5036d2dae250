#!/usr/bin/env bash
# Installs the Python language host (pulumi-language-python) beside $MEESHY_BIN/pulumi, so that
# `pulumi up` runs this project's directory and ops drives it through a local workspace:
# already built, else built from pulumi-language-python-3.259.0.tar.gz in $MEESHY_PLUGIN_SOURCES
# (checked against SHA256SUMS) inside the pulumi pkg/sdk tree in $MEESHY_SRC. There is no
# download to try: Pulumi ships this host inside its CLI distribution (`pulumi plugin install
# language python` refuses, "bundled with Pulumi"), and this CLI is built from Go modules.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"
. "$here/build-common.sh"

version=v3.259.0
name=pulumi-language-python

if is_built "$name" "$version"; then
  log "$name $version already built"
  exit 0
fi
[[ -x "$MEESHY_BIN/pulumi" ]] || die "$MEESHY_BIN/pulumi is missing: run tools/build-pulumi.sh first"
begin_build "$name" "$version"

# The tree tools/build-pulumi.sh built the CLI in; laid out again when it was cleaned away.
tree="$MEESHY_SRC/pulumi-$version"
for part in pkg sdk; do
  [[ -d "$tree/$part" ]] \
    || copy_module "$(go_module_dir "github.com/pulumi/pulumi/$part/v3" "$version" "$log_file")" "$tree/$part"
done
work="$MEESHY_SRC/$name-$version"
unpack_source "$name-${version#v}.tar.gz" "$work" "$log_file"
# Its go.mod replaces pkg and sdk with ../../../../pkg and ../../..: the pulumi repository layout.
host="$tree/sdk/python/cmd/$name"
rm -rf "$host" && mkdir -p "$(dirname "$host")"
cp -r "$work/$name-${version#v}/sdk/python/cmd/$name" "$host"
(cd "$host" && run_logged "$log_file" go build -mod=mod -trimpath \
    -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$version" \
    -o "$MEESHY_BIN/$name.tmp" .) \
  || die "go build of $name $version failed (see $log_file)"
mv "$MEESHY_BIN/$name.tmp" "$MEESHY_BIN/$name"
write_stamp "$name" "$version"
rm -rf "$work" "$host"
log "built $name $version in $(elapsed_since "$start")s"
