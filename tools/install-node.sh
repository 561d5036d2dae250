#!/usr/bin/env bash
# Makes `node` (18 or later) available: the replica-set init script's test runs the script's
# decisions under node (tests/unit/commands/test_replica_set_script.py). A node already on PATH
# is kept, whoever installed it; otherwise Debian's nodejs is installed (root only). Idempotent.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if command -v node >/dev/null && (( $(node_major) >= 18 )); then
  exit 0
fi
[[ "$(id -u)" == 0 ]] || die "node 18 or later is missing and only root can install Debian's nodejs"
log "installing Debian's nodejs"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q nodejs >>"$MEESHY_LOGS/apt-nodejs.log" 2>&1 \
  || { apt-get update -q >>"$MEESHY_LOGS/apt-nodejs.log" 2>&1 \
       && apt-get install -y -q nodejs >>"$MEESHY_LOGS/apt-nodejs.log" 2>&1; } \
  || die "apt-get install nodejs failed: $(tail -n 3 "$MEESHY_LOGS/apt-nodejs.log")"
(( $(node_major) >= 18 )) || die "Debian's nodejs gave node $(node_major); 18 or later is needed"
log "node $(node --version) installed"
