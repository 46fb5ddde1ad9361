#!/usr/bin/env bash
# The Node.js package's tests: installs the addon that the workspace build made, checks that the
# committed index.js, index.mjs and index.d.ts match the Rust sources, runs `node --test` and
# the example of examples/node.
#
# Expects `cargo build --workspace --all-targets` to have run with NAPI_TYPE_DEF_TMP_FOLDER set
# (scripts/test.sh does both); builds it otherwise. npm packages are installed from the lock
# files (`npm ci`), from npm's cache when it holds them.
#
# Arguments are passed to `node --test` (e.g. `bindings/node/test.sh --test-name-pattern=ask`).
# Environment: CARGO_TARGET_DIR, NAPI_TYPE_DEF_TMP_FOLDER.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
export PYO3_BUILD_EXTENSION_MODULE=1
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/heliosdb-cbi-target}"
export NAPI_TYPE_DEF_TMP_FOLDER="${NAPI_TYPE_DEF_TMP_FOLDER:-$CARGO_TARGET_DIR/napi-type-def}"
command -v node >/dev/null || { echo "node not found: install Node.js 18 or later" >&2; exit 1; }

# napi-derive writes the type information only while it compiles the crate, and only into an
# existing folder: when the folder is missing or empty, the crate is compiled again.
if [ -z "$(ls -A "$NAPI_TYPE_DEF_TMP_FOLDER" 2>/dev/null)" ]; then
  mkdir -p "$NAPI_TYPE_DEF_TMP_FOLDER"
  (cd "$ROOT" && cargo clean -q -p conversational-bi-node)
fi
(cd "$ROOT" && cargo build -q --workspace --all-targets)

cd "$HERE"
npm ci --prefer-offline --no-audit --no-fund --loglevel=error
node scripts/build.mjs --check
node scripts/build.mjs
node --test "$@" __test__/

cd "$ROOT/examples/node"
npm ci --prefer-offline --no-audit --no-fund --loglevel=error
out="$(node ask.mjs 'Which 5 artists have the most tracks?' 'top 3 instead')"
grep -q "Iron Maiden" <<<"$out" || { echo "examples/node/ask.mjs: unexpected output:" >&2; echo "$out" >&2; exit 1; }
echo "examples/node/ask.mjs OK"
