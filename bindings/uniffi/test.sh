#!/usr/bin/env bash
# The UniFFI bindings' tests: generates the Kotlin, Swift and Python sources from the library
# that the workspace build made, runs pytest over the generated Python module, and compiles and
# runs the Kotlin example on the JVM (Debian's kotlinc). Swift is generated only: no Swift
# compiler can be installed here.
#
# Expects `cargo build --workspace --all-targets` (scripts/test.sh runs it); builds it otherwise.
# The workspace build unifies the core crate's features, so the library tested here holds every
# backend (the PostgreSQL and MariaDB tests need them); `cargo build -p conversational-bi-ffi`
# alone makes the mobile library (SQLite and the model providers, see Cargo.toml).
# Arguments are passed to pytest.
# Environment: CARGO_TARGET_DIR, PYTHON (default python3), CBI_UNIFFI_SKIP_KOTLIN=1 to leave the
# Kotlin example out (it installs kotlinc with apt when missing).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
export PYO3_BUILD_EXTENSION_MODULE=1
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/heliosdb-cbi-target}"

(cd "$ROOT" && cargo build -q --workspace --all-targets)

OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
"$HERE/generate.sh" "$OUT"
for f in swift/ConversationalBI.swift swift/ConversationalBIFFI.h swift/ConversationalBIFFI.modulemap \
  kotlin/com/heliosdb/conversationalbi/conversational_bi_ffi.kt python/conversational_bi_ffi.py; do
  [ -s "$OUT/$f" ] || { echo "uniffi: $f was not generated" >&2; exit 1; }
done

# pytest from the cached virtualenv of the Python package's tests.
DEPS="$("$ROOT/bindings/python/deps.sh")"
(cd "$OUT" && CBI_UNIFFI_PYTHON_DIR="$OUT/python" "$DEPS/bin/python" -m pytest "$HERE/tests" \
  -p no:cacheprovider -q "$@")

if [ "${CBI_UNIFFI_SKIP_KOTLIN:-0}" != 1 ]; then
  out="$("$ROOT/examples/kotlin/run.sh" "$OUT")"
  echo "$out"
  grep -q "CANNOT_ANSWER" <<<"$out" || { echo "examples/kotlin: the error case did not print CANNOT_ANSWER" >&2; exit 1; }
fi
