#!/usr/bin/env bash
# The Python package's tests: packs the extension that the workspace build made into a wheel,
# installs it into a fresh virtualenv and runs pytest there (the notebook included).
#
# Expects `cargo build --workspace --all-targets` to have run with PYO3_BUILD_EXTENSION_MODULE=1
# (scripts/test.sh does both); builds it otherwise. Third-party packages live in a virtualenv
# cached under ~/.cache (rebuilt when requirements-test.txt or the Python version changes); the
# fresh virtualenv sees them through a .pth file, so a run installs only the wheel.
#
# Arguments are passed to pytest (e.g. `bindings/python/test.sh -x -k answer`).
# Environment: CARGO_TARGET_DIR, PYTHON (default python3), CBI_PY_DEPS (the cached virtualenv).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
export PYO3_BUILD_EXTENSION_MODULE=1
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/heliosdb-cbi-target}"
PYTHON="${PYTHON:-python3}"
command -v "$PYTHON" >/dev/null || { echo "$PYTHON not found: install CPython 3.9 or later" >&2; exit 1; }

LIB="$CARGO_TARGET_DIR/debug/libconversational_bi_py.so"
(cd "$ROOT" && cargo build -q --workspace --all-targets)

# Third-party packages: one cached virtualenv per requirements file and interpreter.
DEPS="$("$HERE/deps.sh")"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
"$DEPS/bin/python" "$HERE/tools/assemble_wheel.py" --lib "$LIB" --out "$WORK/dist" \
  --maturin "$DEPS/bin/maturin" >/dev/null

# A fresh virtualenv holding only the wheel; the cached packages come in through a .pth file.
"$PYTHON" -m venv --without-pip "$WORK/venv"
VPY="$WORK/venv/bin/python"
"$DEPS/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])' \
  >"$("$VPY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/cbi-test-deps.pth"
"$DEPS/bin/python" -m pip --python "$VPY" install -q --disable-pip-version-check --no-deps \
  --no-index "$WORK"/dist/*.whl

# Run from outside the source tree so that only the installed package can be imported.
cd "$WORK"
PATH="$WORK/venv/bin:$PATH" "$VPY" -m pytest "$HERE/tests" -p no:cacheprovider \
  -q "$@"
