#!/usr/bin/env bash
# Runs every test on a fresh or warm machine: starts the databases, loads the test data,
# builds the workspace once and runs the whole suite. Idempotent.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
export CBI_SHARED_DIR="${CBI_SHARED_DIR:-$ROOT/../shared}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/heliosdb-cbi-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# pyo3 builds the Python extension without linking libpython. Set for every cargo call, so that
# all of them share one build of pyo3 (and the warm target dir stays valid).
export PYO3_BUILD_EXTENSION_MODULE=1
# napi-derive writes the Node package's type information here while the addon compiles; every
# cargo call sets it, so that bindings/node/scripts/build.mjs always finds it.
export NAPI_TYPE_DEF_TMP_FOLDER="${NAPI_TYPE_DEF_TMP_FOLDER:-$CARGO_TARGET_DIR/napi-type-def}"
mkdir -p "$NAPI_TYPE_DEF_TMP_FOLDER"

step() { printf '\n==> %s\n' "$*"; }

# CI runs every test: the switch that skips the tests of absent services is for contributors'
# machines only (see testkit/src/services.rs).
if [ -n "${CBI_TEST_SKIP:-}" ]; then
    echo "notice: CBI_TEST_SKIP=$CBI_TEST_SKIP is ignored here; this script starts PostgreSQL, MariaDB and Redis and runs every test" >&2
    unset CBI_TEST_SKIP
fi

step "toolchain"
command -v cargo >/dev/null || { echo "cargo not found: install Rust (https://rustup.rs) first" >&2; exit 1; }
cargo --version
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy rustfmt 2>/dev/null || true

step "databases (PostgreSQL, MariaDB, Redis) and test data"
scripts/services.sh
scripts/load-test-data.sh

step "format"
cargo fmt --all -- --check

step "build (one feature set for build and test)"
cargo build --workspace --all-targets

step "lint"
cargo clippy --workspace --all-targets -- -D warnings

step "feature sets that ship without every backend (type check only)"
# The build above has every backend (the default features). The UniFFI library's own set
# (SQLite + model providers), a rule-only SQLite build, and SQLite with Redis must compile too.
# Checked alone, they keep their own artifacts next to the full build's, so both stay warm.
cargo check -p conversational-bi-ffi
for features in sqlite sqlite,redis; do
  cargo check -p conversational-bi --no-default-features --features "$features"
done

step "tests"
cargo test --workspace -- --test-threads="${CBI_TEST_THREADS:-4}"

step "deployment files (promtool, nginx -t, systemd-analyze)"
scripts/check-deploy.sh

step "python package (the wheel in a fresh virtualenv, pytest, the notebook)"
bindings/python/test.sh

step "node package (the addon, d.ts drift, node --test, examples/node)"
bindings/node/test.sh

step "web app (vendored chart libraries, browser tests in headless Chromium)"
server/web/test.sh

step "mobile bindings (UniFFI: Python tests, Kotlin example, Swift sources)"
bindings/uniffi/test.sh

step "main job: the demo commands"
scripts/demo.sh >/dev/null
echo "demo OK"

# After the demo: its build of the command-line tool is the README's, so that one is warm.
step "the READMEs' install and build commands, as on a fresh clone"
scripts/readme-commands.sh
