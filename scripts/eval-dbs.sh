#!/usr/bin/env bash
# Lays out the databases of the hand-written conversation sets (eval/conversations/) the way
# `heliosdb-conversational-bi eval --db-dir DIR` reads them: DIR/<db>/<db>.sqlite, as symbolic
# links to the SQLite files of the shared data folder, for chinook, sakila and northwind.
#   scripts/eval-dbs.sh DIR
# Idempotent: an existing link is replaced, DIR and its subfolders are created when missing.
# The shared data directory comes from $CBI_SHARED_DIR (default: <repo root>/../shared).
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: scripts/eval-dbs.sh DIR" >&2; exit 2; }
repo_root=$(cd "$(dirname "$0")/.." && pwd)
shared=${CBI_SHARED_DIR:-$repo_root/../shared}
shared=$(cd "$shared" 2>/dev/null && pwd) || {
  echo "eval-dbs.sh: shared folder ${CBI_SHARED_DIR:-$repo_root/../shared} not found; set CBI_SHARED_DIR to the shared folder" >&2
  exit 1
}
dir=$1

link() { # link DB SOURCE
  local db=$1 src=$shared/data/$2
  [ -r "$src" ] || { echo "eval-dbs.sh: $src not found; set CBI_SHARED_DIR to the shared folder" >&2; exit 1; }
  mkdir -p "$dir/$db"
  ln -sfn "$src" "$dir/$db/$db.sqlite"
}

link chinook chinook/Chinook_Sqlite.sqlite
link sakila sakila/sakila.sqlite
link northwind northwind/northwind.sqlite
echo "eval databases in $dir: chinook, sakila, northwind"
