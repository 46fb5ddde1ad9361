#!/usr/bin/env bash
# The web app's tests: the vendored chart libraries match package-lock.json, then the browser
# tests in Debian's headless Chromium against the server binary. Installs Chromium (apt) and the
# npm packages when they are missing; safe to run again.
set -euo pipefail
cd "$(dirname "$0")"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/heliosdb-cbi-target}"
BIN="${CBI_BIN:-$CARGO_TARGET_DIR/debug/heliosdb-conversational-bi}"
[ -x "$BIN" ] || (cd ../.. && cargo build -p heliosdb-conversational-bi)

if [ ! -x /usr/bin/chromium ]; then
  echo "installing chromium (apt)"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get install -y chromium >/dev/null 2>&1 || { $SUDO apt-get update >/dev/null && $SUDO apt-get install -y chromium >/dev/null; }
fi

# npm ci only when the lockfile changed since the last install.
stamp="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ "$(cat node_modules/.installed-lock 2>/dev/null)" != "$stamp" ]; then
  npm ci --no-audit --no-fund
  echo "$stamp" > node_modules/.installed-lock
fi
node scripts/vendor.mjs --check
CBI_BIN="$BIN" node --test --test-reporter=spec tests/
echo "screenshots: server/web/test-results/screenshots/; budgets: server/web/test-results/budgets.json"
