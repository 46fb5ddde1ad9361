#!/usr/bin/env bash
# Generates the Kotlin, Swift and Python sources of conversational-bi-ffi from its compiled
# library, with the uniffi-bindgen of tools/uniffi-bindgen (built here when needed).
#
#   bindings/uniffi/generate.sh OUT_DIR [debug|release]
#
# Writes OUT_DIR/python (conversational_bi_ffi.py with the library beside it, importable as is),
# OUT_DIR/kotlin (com/heliosdb/conversationalbi/conversational_bi_ffi.kt) and OUT_DIR/swift
# (ConversationalBI.swift, ConversationalBIFFI.h, ConversationalBIFFI.modulemap).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="${1:?usage: generate.sh OUT_DIR [debug|release]}"
PROFILE="${2:-debug}"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
case "$(uname -s)" in
  Darwin) LIB="$TARGET_DIR/$PROFILE/libconversational_bi_ffi.dylib" ;;
  *) LIB="$TARGET_DIR/$PROFILE/libconversational_bi_ffi.so" ;;
esac
[ -f "$LIB" ] || { echo "generate.sh: $LIB not found: build it first (cargo build -p conversational-bi-ffi)" >&2; exit 1; }

cd "$ROOT"
CARGO_TARGET_DIR="$TARGET_DIR" cargo build -q --locked --manifest-path tools/uniffi-bindgen/Cargo.toml
BINDGEN="$TARGET_DIR/debug/uniffi-bindgen"
rm -rf "$OUT/python" "$OUT/kotlin" "$OUT/swift"
for language in python kotlin swift; do
  "$BINDGEN" generate --library "$LIB" --language "$language" --out-dir "$OUT/$language" --no-format
done
cp "$LIB" "$OUT/python/"
echo "generate.sh: Python, Kotlin and Swift sources in $OUT"
