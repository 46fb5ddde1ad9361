#!/usr/bin/env bash
# Runs the install and build commands the READMEs show, as a newcomer would run them on a fresh
# clone, so that a README cannot promise a command that fails.
#
# A README marks such a command block with an HTML comment on the line before it (a reader of
# the rendered page does not see it):
#
#   <!-- ci: run -->
#   ```sh
#   cd bindings/node && npm ci && npm run build
#   ```
#
# Each marked block runs with bash (errexit, pipefail) from the top of a copy of the repository's
# tracked files (no node_modules, no virtualenv, no build output; file times kept, so that cargo
# finds its warm build), in an environment without the variables scripts/test.sh sets for its
# own builds (NAPI_TYPE_DEF_TMP_FOLDER, PYO3_BUILD_EXTENSION_MODULE) and without the Node type
# folder a fresh clone lacks. The one shortcut: CARGO_TARGET_DIR is kept, so that the builds are
# warm. Blocks run one after another, each in the state the blocks before it left; a block
# shown in several READMEs runs once.
#
#   scripts/readme-commands.sh           run every marked block of README.md and bindings/*/README.md
#   scripts/readme-commands.sh --list    print them without running them
#   scripts/readme-commands.sh FILE...   only the blocks of these READMEs
#
# Environment: CARGO_TARGET_DIR (default ~/.cache/heliosdb-cbi-target), CBI_README_DIR (where the
# copy is made; default ~/.cache/heliosdb-cbi-readme).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/heliosdb-cbi-target}"

list=false
if [ "${1:-}" = "--list" ]; then
  list=true
  shift
fi
if [ $# -gt 0 ]; then
  readmes=("$@")
else
  readmes=(README.md bindings/*/README.md)
fi

# Prints the marked blocks of one Markdown file, each followed by a line `\x00` (so that blocks
# with empty lines stay whole).
blocks_of() {
  awk '
    /^<!-- ci: run -->[[:space:]]*$/ { marked = 1; next }
    marked && /^```(sh|bash)[[:space:]]*$/ { inside = 1; marked = 0; next }
    inside && /^```[[:space:]]*$/ { inside = 0; print "\\x00"; next }
    inside { print; next }
    marked && NF { printf "%s: a <!-- ci: run --> line must come right before a ```sh block\n", FILENAME > "/dev/stderr"; exit 2 }
  ' "$1"
}

declare -a sources=() scripts=()
for readme in "${readmes[@]}"; do
  [ -f "$readme" ] || { echo "readme-commands.sh: $readme not found" >&2; exit 2; }
  current=""
  while IFS= read -r line; do
    if [ "$line" = '\x00' ]; then
      # A block shown in two READMEs (the top one repeats the bindings' builds) runs once.
      seen=false
      for done_block in ${scripts[@]+"${scripts[@]}"}; do
        [ "$done_block" = "$current" ] && seen=true
      done
      $seen || {
        sources+=("$readme")
        scripts+=("$current")
      }
      current=""
    else
      current+="$line"$'\n'
    fi
  done < <(blocks_of "$readme")
done
[ "${#scripts[@]}" -gt 0 ] || { echo "readme-commands.sh: no <!-- ci: run --> block in ${readmes[*]}" >&2; exit 2; }

if $list; then
  for i in "${!scripts[@]}"; do
    printf '# %s\n%s\n' "${sources[$i]}" "${scripts[$i]}"
  done
  exit 0
fi

# A copy of the tracked files, as a clone has them, in a folder of fixed name (cargo keys its
# build of the workspace's own crates on their path).
COPY="${CBI_README_DIR:-$HOME/.cache/heliosdb-cbi-readme}/repo"
rm -rf "$COPY"
mkdir -p "$COPY"
git ls-files -z | tar --null -T - -cf - | tar -xf - -C "$COPY"

# What a fresh clone does not have: the Node type folder (build.mjs must create it).
rm -rf "$CARGO_TARGET_DIR/napi-type-def"

for i in "${!scripts[@]}"; do
  printf '\n--> %s:\n%s' "${sources[$i]}" "${scripts[$i]}"
  start=$SECONDS
  if ! (cd "$COPY" && env -u NAPI_TYPE_DEF_TMP_FOLDER -u PYO3_BUILD_EXTENSION_MODULE -u VIRTUAL_ENV \
    bash -euo pipefail -c "${scripts[$i]}"); then
    echo "readme-commands.sh: this command block of ${sources[$i]} failed (run it from a fresh clone to see why):" >&2
    printf '%s' "${scripts[$i]}" >&2
    exit 1
  fi
  echo "(ok, $((SECONDS - start)) s)"
done

# The extension the Python README builds is the released one: it answers, and carries none of
# the test hooks that only the workspace build (feature `test-hooks`) has.
if [ -x "$COPY/.venv/bin/python" ]; then
  (cd "$COPY" && .venv/bin/python - <<'PY'
import conversational_bi as cbi
hooks = [n for n in ("sample_error", "rust_ask_gaps") if hasattr(cbi._native, n)]
assert not hooks, f"the README's Python build carries test hooks: {hooks}"
assert cbi.Engine().ask("How many artists are there?").rows == [(275,)]
print("python build: no test hooks, answers")
PY
  )
fi
echo "readme-commands.sh: ${#scripts[@]} command blocks of ${readmes[*]} ran"
