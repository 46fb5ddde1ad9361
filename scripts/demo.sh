#!/usr/bin/env bash
# The main job on the embedded default: the Chinook demo database, no configuration, no key.
# Builds the command-line tool if needed, answers a question and a follow-up with the offline
# generator, prints the schema the engine sees, then runs SQL through the validator and the
# read-only executor. The answers go to stdout; the build's progress goes to stderr.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/heliosdb-cbi-target}"
command -v cargo >/dev/null || { echo "cargo not found: install Rust (https://rustup.rs) first" >&2; exit 1; }
BIN="$CARGO_TARGET_DIR/debug/heliosdb-conversational-bi"
[ -x "$BIN" ] || echo "building heliosdb-conversational-bi (the first build takes a few minutes)..." >&2
cargo build -p heliosdb-conversational-bi >&2

echo "\$ heliosdb-conversational-bi ask \"Which 5 artists have the most tracks?\" \"top 3 instead\""
"$BIN" ask "Which 5 artists have the most tracks?" "top 3 instead"
echo
echo "\$ heliosdb-conversational-bi schema"
"$BIN" schema
echo
SQL="SELECT ar.Name AS artist, count(*) AS tracks
FROM Artist ar JOIN Album al ON al.ArtistId = ar.ArtistId JOIN Track t ON t.AlbumId = al.AlbumId
GROUP BY ar.Name ORDER BY tracks DESC LIMIT 5"
echo "\$ heliosdb-conversational-bi run \"$SQL\""
"$BIN" run "$SQL"
echo
echo "\$ heliosdb-conversational-bi validate \"DELETE FROM Track\""
set +e
"$BIN" validate "DELETE FROM Track"
code=$?
set -e
[ "$code" -eq 3 ] || { echo "expected the validator to refuse the DELETE (exit 3), got $code" >&2; exit 1; }
