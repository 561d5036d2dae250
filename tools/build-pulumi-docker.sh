#!/usr/bin/env bash
# Builds the pulumi-docker resource provider matching the pinned Python SDK (pulumi-docker==5.1.0)
# and installs it into the plugin cache as 'resource docker 5.1.0'.
# Exit 3: the module proxy refuses one of its modules here (recorded in .NAME.refused).
# Unverified past the download: both modules are refused here, so the layout, the shim and the
# schema step below follow the release's sources as read, not a build seen to work.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"
. "$here/build-common.sh"

provider_module=github.com/pulumi/pulumi-docker/provider/v5
# No provider/ tags exist: pseudo-versions of the v5.1.0 commit and of its upstream submodule.
provider_version=v5.0.0-20260626165050-e944612c4c97
upstream_module=github.com/kreuzwerker/terraform-provider-docker
upstream_version=v0.0.0-20260618190003-5074970c71ce
version=5.1.0
name=pulumi-resource-docker

plugin_preflight "$name" "$version" docker

begin_build "$name" "$version"

provider_src="$(require_module "$name" "$provider_module" "$provider_version" "$log_file")"
upstream_src="$(require_module "$name" "$upstream_module" "$upstream_version" "$log_file")"
# provider/go.mod replaces the terraform provider with ../upstream (a git submodule in the repo).
work="$MEESHY_SRC/pulumi-docker-$version"
copy_module "$provider_src" "$work/provider"
copy_module "$upstream_src" "$work/upstream"
# The release patches upstream with this one-file package, which the bridge imports.
mkdir -p "$work/upstream/shim"
cat >"$work/upstream/shim/shim.go" <<'GO'
package shim

import (
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
	"github.com/terraform-providers/terraform-provider-docker/internal/provider"
)

func NewProvider() *schema.Provider {
	return provider.New("dev")()
}
GO

cmd_dir="$work/provider/cmd/$name"
(cd "$cmd_dir" && VERSION="v$version" run_logged "$log_file" go run -mod=mod ./generate.go) \
  || die "schema generation of $provider_module@$provider_version failed (see $log_file)"
(cd "$work/provider" && run_logged "$log_file" go build -trimpath -mod=mod \
    -ldflags "-X github.com/pulumi/pulumi-docker/provider/v5/pkg/version.Version=v$version" \
    -o "$MEESHY_BIN/$name.tmp" "./cmd/$name") \
  || die "go build of $provider_module@$provider_version failed (see $log_file)"
mv "$MEESHY_BIN/$name.tmp" "$MEESHY_BIN/$name"
write_stamp "$name" "$version"
install_plugin resource docker "$version" "$MEESHY_BIN/$name" "$log_file"
rm -rf "$work"
log "built and installed $name $version in $(elapsed_since "$start")s"
