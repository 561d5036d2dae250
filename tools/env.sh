#!/usr/bin/env bash
# The environment every script and test needs to find the built tools, with nothing downloaded.
#   . tools/env.sh          sets and exports it in the current shell
#   bash tools/env.sh       prints it as KEY=VALUE lines (one per line) for Python and other readers
# It adds to tools/lib.sh only what lib.sh leaves out: the default local state backend.
_meeshy_env_here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$_meeshy_env_here/lib.sh"
unset _meeshy_env_here

# A file backend under the tools cache: no network, no login, shared by every clone here.
MEESHY_STATE_DIR="$MEESHY_TOOLS_DIR/state"
PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$MEESHY_STATE_DIR}"
export MEESHY_STATE_DIR PULUMI_BACKEND_URL
mkdir -p "$MEESHY_STATE_DIR"

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  for var in MEESHY_TOOLS_DIR MEESHY_BIN MEESHY_VENV MEESHY_SRC MEESHY_LOGS MEESHY_STATE_DIR \
             MEESHY_REPO_ROOT PULUMI_HOME PULUMI_BACKEND_URL PULUMI_SKIP_UPDATE_CHECK \
             PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION PATH; do
    printf '%s=%s\n' "$var" "${!var}"
  done
fi
