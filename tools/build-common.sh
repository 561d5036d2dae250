# Helpers shared by the tools/build-*.sh scripts. Source it after tools/lib.sh.
# Every build is skipped when its binary exists beside a stamp file holding the wanted version,
# so a machine pays for each Go build once.

# The module cache marks files read-only; builds happen in writable copies under $MEESHY_SRC.
export CGO_ENABLED="${CGO_ENABLED:-0}"
export GOFLAGS="${GOFLAGS:--buildvcs=false}"
# The proxy here lists no versions: a checksum lookup for a pseudo-version still works, so keep it.

stamp_path() { printf '%s/.%s.version' "$MEESHY_BIN" "$1"; }

# is_built NAME VERSION: true when $MEESHY_BIN/NAME exists and its stamp says VERSION.
is_built() {
  local name="$1" version="$2" stamp
  stamp="$(stamp_path "$name")"
  [[ -x "$MEESHY_BIN/$name" && -f "$stamp" && "$(cat "$stamp")" == "$version" ]]
}

write_stamp() { printf '%s\n' "$2" >"$(stamp_path "$1")"; }

# go_module_dir MODULE VERSION LOG: downloads one exact module version and prints its cache dir.
# A refusal is reported with the module and version so nobody has to dig through logs.
go_module_dir() {
  local module="$1" version="$2" log="$3" json dir
  if ! json="$(cd "$MEESHY_SRC" && go mod download -json "$module@$version" 2>>"$log")"; then
    local err
    err="$(printf '%s' "$json" | sed -n 's/.*"Error": "\(.*\)".*/\1/p')"
    die "module $module@$version refused: ${err:-see $log}"
  fi
  dir="$(printf '%s' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')"
  [[ -n "$dir" && -d "$dir" ]] || die "module $module@$version: no directory in go mod download output (see $log)"
  printf '%s\n' "$dir"
}

# copy_module SRC DEST: a fresh writable copy, so generated files and patches never touch the cache.
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

# timed_build NAME: prints elapsed seconds since the script started, for the docs' build times.
elapsed_since() { echo $(( $(date +%s) - $1 )); }

# free_port: an unused TCP port on the loopback interface, for smoke tests.
free_port() {
  "$MEESHY_VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
