# Shared paths for every tool script. Source it; it sets nothing else.
# Everything built or installed lives outside the clone so a fresh clone catches up from the cache.
MEESHY_TOOLS_DIR="${MEESHY_TOOLS_DIR:-$HOME/.cache/meeshy-infra}"
MEESHY_BIN="$MEESHY_TOOLS_DIR/bin"
MEESHY_VENV="$MEESHY_TOOLS_DIR/venv"
MEESHY_SRC="$MEESHY_TOOLS_DIR/src"        # writable copies of Go modules being built
MEESHY_LOGS="$MEESHY_TOOLS_DIR/logs"
# Pulumi keeps plugins and the local file backend here, never in ~/.pulumi.
PULUMI_HOME="${PULUMI_HOME:-$MEESHY_TOOLS_DIR/pulumi-home}"
export MEESHY_TOOLS_DIR MEESHY_BIN MEESHY_VENV MEESHY_SRC MEESHY_LOGS PULUMI_HOME
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PATH="$MEESHY_BIN:$MEESHY_VENV/bin:$PATH"
# rustup installs cargo and rustc into ~/.cargo/bin, which a non-login shell (CI's) may lack.
command -v cargo >/dev/null || PATH="$PATH:$HOME/.cargo/bin"
mkdir -p "$MEESHY_BIN" "$MEESHY_SRC" "$MEESHY_LOGS" "$PULUMI_HOME"

MEESHY_REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export MEESHY_REPO_ROOT

log() { printf '[meeshy-tools] %s\n' "$*" >&2; }
die() { printf '[meeshy-tools] error: %s\n' "$*" >&2; exit 1; }
