#!/usr/bin/env bash
# Makes a Docker engine answer on this machine: installs Debian's docker.io when dockerd is
# missing and starts dockerd (as root, in the background) when `docker info` gets no answer.
# An engine that already answers is left alone, whoever started it.
#   MEESHY_DOCKERD_ARGS   extra dockerd arguments (e.g. a second engine on its own socket together
#                         with DOCKER_HOST); MEESHY_DOCKER_WAIT  seconds to wait (default 60)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"

wait_seconds="${MEESHY_DOCKER_WAIT:-60}"
log_file="$MEESHY_LOGS/dockerd.log"

engine_answers() { timeout 10 docker info >/dev/null 2>&1; }

if command -v docker >/dev/null && engine_answers; then
  log "Docker engine already running ($(docker version --format '{{.Server.Version}}' 2>/dev/null))"
  exit 0
fi
[[ "$(id -u)" == 0 ]] || die "dockerd is not answering and only root can start it (uid $(id -u))"

if ! command -v dockerd >/dev/null || ! command -v docker >/dev/null; then
  log "installing Debian's docker.io"
  export DEBIAN_FRONTEND=noninteractive
  # The package lists may be missing or stale on a fresh machine; one update covers both.
  apt-get install -y -q docker.io >>"$MEESHY_LOGS/apt-docker.log" 2>&1 \
    || { apt-get update -q >>"$MEESHY_LOGS/apt-docker.log" 2>&1 \
         && apt-get install -y -q docker.io >>"$MEESHY_LOGS/apt-docker.log" 2>&1; } \
    || die "apt-get install docker.io failed: $(tail -n 3 "$MEESHY_LOGS/apt-docker.log")"
fi

# shellcheck disable=SC2206  # word splitting of the extra arguments is wanted
extra_args=(${MEESHY_DOCKERD_ARGS:-})
log "starting dockerd (log: $log_file)"
nohup dockerd "${extra_args[@]}" >>"$log_file" 2>&1 </dev/null &
dockerd_pid=$!
echo "$dockerd_pid" >"$MEESHY_LOGS/dockerd.pid"

for ((waited = 0; waited < wait_seconds; waited++)); do
  if engine_answers; then
    log "Docker engine answering after ${waited}s (dockerd pid $dockerd_pid)"
    exit 0
  fi
  kill -0 "$dockerd_pid" 2>/dev/null \
    || die "dockerd exited before answering; its last lines: $(tail -n 5 "$log_file")"
  sleep 1
done
die "dockerd (pid $dockerd_pid) did not answer docker info within ${wait_seconds}s; see $log_file"
