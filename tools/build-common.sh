# Helpers shared by the tools/build-*.sh scripts. Source it after tools/lib.sh.
# Every build is skipped when its binary exists beside a stamp file holding the wanted version,
# so a machine pays for each Go build once.

export CGO_ENABLED="${CGO_ENABLED:-0}"
export GOFLAGS="${GOFLAGS:--buildvcs=false}"
# The Go compiler spends a fifth of its CPU collecting garbage at the default GOGC=100. A cold
# FerretDB build took 95 s of CPU at 100 and 78 s at 400 (1.3 GB at most per compile, against
# 0.6 GB); the limit keeps any one compile of a larger package from growing past it.
export GOGC="${GOGC:-400}"
export GOMEMLIMIT="${GOMEMLIMIT:-4GiB}"

stamp_path() { printf '%s/.%s.version' "$MEESHY_BIN" "$1"; }

# is_built NAME VERSION: true when $MEESHY_BIN/NAME exists and its stamp says VERSION.
is_built() {
  local name="$1" version="$2" stamp
  stamp="$(stamp_path "$name")"
  [[ -x "$MEESHY_BIN/$name" && -f "$stamp" && "$(cat "$stamp")" == "$version" ]]
}

write_stamp() { printf '%s\n' "$2" >"$(stamp_path "$1")"; }

# _download_error JSON: the proxy's answer from `go mod download -json`, on one line, without URLs.
_download_error() {
  printf '%s' "$1" | sed -n 's/.*"Error": "\(.*\)".*/\1/p' | sed 's/\\n\\t/ /g; s/^.*reading [^ ]*: //'
}

# go_module_dir MODULE VERSION LOG: downloads one exact module version and prints its cache dir.
# A refusal names the module and version so nobody has to dig through logs.
go_module_dir() {
  local module="$1" version="$2" log="$3" json dir
  if ! json="$(cd "$MEESHY_SRC" && go mod download -json "$module@$version" 2>>"$log")"; then
    die "module $module@$version refused: $(_download_error "$json")"
  fi
  dir="$(printf '%s' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')"
  [[ -n "$dir" && -d "$dir" ]] || die "module $module@$version: no directory in go mod download output (see $log)"
  printf '%s\n' "$dir"
}

# copy_module SRC DEST: a fresh writable copy, since the module cache is read-only and generated
# files or patches must never touch it.
copy_module() {
  local src="$1" dest="$2"
  rm -rf "$dest"
  mkdir -p "$(dirname "$dest")"
  cp -r "$src" "$dest"
  chmod -R u+w "$dest"
}

# run_logged LOG CMD...: runs CMD with its output appended to LOG; on failure shows the log's tail.
run_logged() {
  local log="$1"; shift
  printf '\n$ %s\n' "$*" >>"$log"
  if ! "$@" >>"$log" 2>&1; then
    tail -n 25 "$log" >&2
    return 1
  fi
}

elapsed_since() { echo $(( $(date +%s) - $1 )); }

# begin_build NAME VERSION [LOG NAME]: sets $start and an emptied $log_file, says what is built.
begin_build() {
  start=$(date +%s)
  log_file="$MEESHY_LOGS/build-${3:-$1}.log"
  : >"$log_file"
  log "building $1 $2 (log: $log_file)"
}

# install_plugin KIND NAME VERSION BINARY: puts a locally built plugin into $PULUMI_HOME's cache,
# where the CLI looks for an exact version before it would try to download one.
install_plugin() {
  local kind="$1" name="$2" version="$3" binary="$4" log="$5"
  run_logged "$log" "$MEESHY_BIN/pulumi" plugin install "$kind" "$name" "$version" --file "$binary" \
    || die "pulumi plugin install $kind $name $version failed (see $log)"
}

# reports WANT CMD...: true when the whole output of CMD (stdout and stderr) contains WANT. Never a
# pipe into `grep -q`: under pipefail it fails at random when grep exits before CMD has written.
reports() {
  local want="$1" out; shift
  out="$("$@" 2>&1)" || true
  [[ "$out" == *"$want"* ]]
}

# plugin_installed KIND NAME VERSION: the plugin cache holds that exact version.
plugin_installed() {
  compgen -G "$PULUMI_HOME/plugins/$1-$2-v$3/pulumi-$1-$2" >/dev/null
}

# try_plugin_download KIND NAME VERSION LOG: `pulumi plugin install`, for hosts that can reach the
# plugins' download site (an operator's ordinary machine). Bounded: a closed network may hang.
try_plugin_download() {
  [[ "${MEESHY_PLUGIN_DOWNLOAD:-1}" == 1 ]] || return 1
  log "trying: pulumi plugin install $1 $2 $3"
  PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=false run_logged "$4" \
    timeout "${MEESHY_PLUGIN_DOWNLOAD_TIMEOUT:-60}" "$MEESHY_BIN/pulumi" plugin install "$1" "$2" "$3" \
    2>/dev/null
}

# unpack_source ARCHIVE DEST LOG: ARCHIVE (a file name) from $MEESHY_PLUGIN_SOURCES, checked against
# that directory's SHA256SUMS, unpacked into DEST. Any problem names the file and ends the script
# before anything is built or installed.
unpack_source() {
  local archive="$1" dest="$2" dir="${MEESHY_PLUGIN_SOURCES:-}" want got
  [[ -n "$dir" ]] || die "cannot download the plugin and MEESHY_PLUGIN_SOURCES is not set: point it \
at a directory of source archives with a SHA256SUMS file (docs/toolchain.md)"
  [[ -f "$dir/$archive" ]] || die "source archive $dir/$archive is missing"
  [[ -f "$dir/SHA256SUMS" ]] || die "$dir/SHA256SUMS is missing: the archives cannot be checked"
  want="$(awk -v f="$archive" '$2 == f || $2 == "*" f { print $1; exit }' "$dir/SHA256SUMS")"
  [[ -n "$want" ]] || die "$dir/SHA256SUMS has no line for $archive"
  got="$(sha256sum "$dir/$archive" | cut -d' ' -f1)"
  [[ "$got" == "$want" ]] || die "checksum mismatch for $dir/$archive: SHA256SUMS says $want, the \
file is $got; nothing was built or installed"
  rm -rf "$dest" && mkdir -p "$dest"
  run_logged "$3" tar -xzf "$dir/$archive" -C "$dest" || die "cannot unpack $dir/$archive (see $3)"
}
