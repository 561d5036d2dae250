#!/usr/bin/env bash
# Builds meeshy-local/debian-base:bookworm without pulling anything: debootstrap (minbase) from
# Debian's packages, tarred once into $MEESHY_TOOLS_DIR/images/ and `docker import`ed.
# The tarball is the expensive part (a few minutes of downloads); it is kept so a pruned engine
# or a fresh clone re-imports in seconds.
#   build.sh TAG
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/../../tools/lib.sh"

tag="${1:?usage: build.sh TAG}"
suite=bookworm
cache_dir="$MEESHY_TOOLS_DIR/images"
# Keyed by the recipe's hash (set by tools/build-images.sh), so an edited recipe redoes the
# debootstrap while an unchanged one only re-imports.
recipe="${MEESHY_RECIPE_HASH:-manual}"
tarball="$cache_dir/debian-base-$suite-$recipe.tar"

# The mirror is the one this host's apt already uses, so the image reaches the same package
# source as the host (the only one this network allows). DEBIAN_MIRROR overrides it.
host_mirror() {
  local f uri
  for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f "$f" ]] || continue
    uri="$(awk '
      /^URIs:/ { for (i = 2; i <= NF; i++) if ($i ~ /\/debian\/?$/) { print $i; exit } }
      /^deb / { for (i = 2; i <= NF; i++) if ($i ~ /\/debian\/?$/) { print $i; exit } }' "$f")"
    if [[ -n "$uri" ]]; then printf '%s\n' "$uri"; return 0; fi
  done
  return 1
}

if [[ ! -s "$tarball" ]]; then
  [[ "$(id -u)" == 0 ]] || die "debootstrap needs root (it creates device nodes and chroots)"
  if ! command -v debootstrap >/dev/null; then
    log "installing Debian's debootstrap"
    # The package lists may be missing or stale on a fresh machine; one update covers both.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap \
      || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap; } \
      || die "apt-get install debootstrap failed (see the output above)"
  fi
  mirror="${DEBIAN_MIRROR:-$(host_mirror)}" \
    || die "no Debian mirror found in /etc/apt sources; set DEBIAN_MIRROR"
  root="$(mktemp -d "${TMPDIR:-/tmp}/meeshy-debootstrap.XXXXXX")"
  trap 'rm -rf "$root"' EXIT
  log "debootstrap --variant=minbase $suite from $mirror"
  debootstrap --variant=minbase "$suite" "$root" "$mirror" \
    || die "debootstrap $suite failed (see the output above)"
  # The same suites the host uses, security updates included, so images get fixed packages.
  cat >"$root/etc/apt/sources.list" <<EOF
deb $mirror $suite main
deb $mirror $suite-updates main
deb ${mirror%/debian*}/debian-security $suite-security main
EOF
  # Keep images small: no caches, no docs, no translations, no recommends.
  cat >"$root/etc/apt/apt.conf.d/90meeshy-slim" <<'EOF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
EOF
  cat >"$root/etc/dpkg/dpkg.cfg.d/90meeshy-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
EOF
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  mkdir -p "$cache_dir"
  # Numeric owners and a fixed order, so the tarball is a plain file system copy.
  tar --numeric-owner --sort=name -C "$root" -cf "$tarball.tmp" .
  mv "$tarball.tmp" "$tarball"
  find "$cache_dir" -maxdepth 1 -name "debian-base-$suite-*.tar" ! -path "$tarball" -delete
fi

log "importing $tarball as $tag"
docker import --change 'CMD ["/bin/bash"]' --change 'ENV LANG=C.UTF-8' \
  --change "LABEL meeshy.recipe=$recipe" \
  --message "debootstrap --variant=minbase $suite" "$tarball" "$tag" >/dev/null
