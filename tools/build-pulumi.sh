#!/usr/bin/env bash
# Builds the Pulumi CLI into $MEESHY_BIN/pulumi at the version of the pinned Python SDK
# (requirements.txt: pulumi==3.259.0); the Automation API refuses a CLI it cannot version-check.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"
. "$here/build-common.sh"

version=v3.259.0
name=pulumi

# The SDK ships two Python launchers that the CLI looks for beside itself or on PATH:
# pulumi-language-python-exec (run by the language host) and pulumi-resource-pulumi-python
# (Python dynamic providers; this project declares none, the launcher comes with the SDK).
install_python_launchers() {
  local sdk="$1"
  install -m 0755 "$sdk/python/cmd/pulumi-language-python-exec" "$MEESHY_BIN/pulumi-language-python-exec"
  install -m 0755 "$sdk/python/dist/pulumi-resource-pulumi-python" "$MEESHY_BIN/pulumi-resource-pulumi-python"
  write_stamp pulumi-language-python-exec "$version"
  write_stamp pulumi-resource-pulumi-python "$version"
}

if is_built "$name" "$version"; then
  if ! is_built pulumi-language-python-exec "$version" || ! is_built pulumi-resource-pulumi-python "$version"; then
    install_python_launchers "$(go_module_dir github.com/pulumi/pulumi/sdk/v3 "$version" /dev/null)"
  fi
  log "$name $version already built"
  exit 0
fi

begin_build "$name" "$version"

pkg="$(go_module_dir github.com/pulumi/pulumi/pkg/v3 "$version" "$log_file")"
sdk="$(go_module_dir github.com/pulumi/pulumi/sdk/v3 "$version" "$log_file")"
# pkg/go.mod replaces the SDK with ../sdk, so both copies must sit side by side as in the repo.
work="$MEESHY_SRC/pulumi-$version"
copy_module "$pkg" "$work/pkg"
copy_module "$sdk" "$work/sdk"

(cd "$work/pkg" && run_logged "$log_file" go build -trimpath \
    -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$version" \
    -o "$MEESHY_BIN/$name.tmp" ./cmd/pulumi) \
  || die "go build of github.com/pulumi/pulumi/pkg/v3@$version failed (see $log_file)"
mv "$MEESHY_BIN/$name.tmp" "$MEESHY_BIN/$name"

[[ "$("$MEESHY_BIN/$name" version)" == "$version" ]] \
  || die "$MEESHY_BIN/$name does not report $version (see $log_file)"
write_stamp "$name" "$version"
install_python_launchers "$work/sdk"
# The work tree stays: the Python language host builds inside it (tools/build-pulumi-python.sh).
log "built $name $version in $(elapsed_since "$start")s"
