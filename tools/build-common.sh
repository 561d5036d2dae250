# Helpers shared by the tools/build-*.sh scripts. Source it after tools/lib.sh.
# Every build is skipped when its binary exists beside a stamp file holding the wanted version,
# so a machine pays for each Go build once.

export CGO_ENABLED="${CGO_ENABLED:-0}"
export GOFLAGS="${GOFLAGS:--buildvcs=false}"

# Exit status of a build script whose module the proxy refuses: bootstrap.sh reports it as
# 'not available here' instead of a broken build.
EXIT_REFUSED=3

stamp_path() { printf '%s/.%s.version' "$MEESHY_BIN" "$1"; }
refusal_path() { printf '%s/.%s.refused' "$MEESHY_BIN" "$1"; }

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

# A module version the proxy refuses stays refused: the answer is remembered so each bootstrap
# does not ask again. MEESHY_RETRY_REFUSED=1 asks anyway (e.g. after the proxy's offer changed).
check_not_refused() {
  local marker
  marker="$(refusal_path "$1")"
  if [[ -f "$marker" && "${MEESHY_RETRY_REFUSED:-0}" != 1 ]]; then
    printf '[meeshy-tools] not available: %s cannot be built here: %s (MEESHY_RETRY_REFUSED=1 asks again)\n' \
      "$1" "$(cat "$marker")" >&2
    exit "$EXIT_REFUSED"
  fi
  rm -f "$marker"
}

# require_module NAME MODULE VERSION LOG: like go_module_dir, but a refusal is recorded for NAME
# and ends the script with EXIT_REFUSED.
require_module() {
  local name="$1" module="$2" version="$3" log="$4" json dir
  if json="$(cd "$MEESHY_SRC" && go mod download -json "$module@$version" 2>>"$log")"; then
    dir="$(printf '%s' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')"
    [[ -n "$dir" && -d "$dir" ]] && { printf '%s\n' "$dir"; return 0; }
  fi
  printf '%s@%s refused by the module proxy: %s\n' "$module" "$version" \
    "$(_download_error "$json")" >"$(refusal_path "$name")"
  printf '[meeshy-tools] error: %s\n' "$(cat "$(refusal_path "$name")")" >&2
  exit "$EXIT_REFUSED"
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

# plugin_preflight NAME VERSION PLUGIN: a provider plugin already built and installed ends the
# script (exit 0); one refused before ends it with 3; the CLI that installs it must exist.
plugin_preflight() {
  if is_built "$1" "$2" && [[ -d "$PULUMI_HOME/plugins/resource-$3-v$2" ]]; then
    log "$1 $2 already built and installed"
    exit 0
  fi
  check_not_refused "$1"
  [[ -x "$MEESHY_BIN/pulumi" ]] || die "$MEESHY_BIN/pulumi is missing: run tools/build-pulumi.sh first"
}

# install_plugin KIND NAME VERSION BINARY: puts a locally built plugin into $PULUMI_HOME's cache,
# where the CLI looks for an exact version before it would try to download one.
install_plugin() {
  local kind="$1" name="$2" version="$3" binary="$4" log="$5"
  run_logged "$log" "$MEESHY_BIN/pulumi" plugin install "$kind" "$name" "$version" --file "$binary" \
    || die "pulumi plugin install $kind $name $version failed (see $log)"
}
