#!/usr/bin/env bash
# Builds the Python language host (pulumi-language-python) beside $MEESHY_BIN/pulumi, so that
# `pulumi up` can run a Python project directory. Automation API inline programs do not need it.
# Exit 3: the module proxy refuses the language host module here (recorded in .NAME.refused).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"
. "$here/build-common.sh"

module=github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3
# The module has no tags: the pseudo-version of the v3.259.0 commit (the pkg/v3.259.0 tag's
# commit a05d88f24d05, 2026-08-20T08:44:10Z as the proxy reports for pkg/v3).
module_version=v3.0.0-20260820084410-a05d88f24d05
version=v3.259.0
name=pulumi-language-python

if is_built "$name" "$version"; then
  log "$name $version already built"
  exit 0
fi
check_not_refused "$name"
work="$MEESHY_SRC/pulumi-$version"
[[ -d "$work/pkg" && -d "$work/sdk" ]] || die "$work is missing: run tools/build-pulumi.sh first"

begin_build "$name" "$version"

src="$(require_module "$name" "$module" "$module_version" "$log_file")"
# Its go.mod replaces pkg and sdk with ../../../../pkg and ../../.., i.e. the repo layout.
host="$work/sdk/python/cmd/pulumi-language-python"
copy_module "$src" "$host"
(cd "$host" && run_logged "$log_file" go build -trimpath \
    -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$version" \
    -o "$MEESHY_BIN/$name.tmp" .) \
  || die "go build of $module@$module_version failed (see $log_file)"
mv "$MEESHY_BIN/$name.tmp" "$MEESHY_BIN/$name"
write_stamp "$name" "$version"
log "built $name $version in $(elapsed_since "$start")s"
