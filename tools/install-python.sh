#!/usr/bin/env bash
# Creates the project's virtualenv in the cache and installs requirements.txt into it.
# Re-installs only when requirements.txt changed (its hash is kept beside the venv).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
stamp="$MEESHY_VENV/.requirements.sha256"
want=$(sha256sum "$MEESHY_REPO_ROOT/requirements.txt" | cut -d' ' -f1)
if [ -x "$MEESHY_VENV/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  exit 0
fi
log "installing Python dependencies into $MEESHY_VENV"
[ -x "$MEESHY_VENV/bin/python" ] || python3 -m venv "$MEESHY_VENV"
"$MEESHY_VENV/bin/pip" install -q --disable-pip-version-check -r "$MEESHY_REPO_ROOT/requirements.txt"
echo "$want" > "$stamp"
