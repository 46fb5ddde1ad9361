#!/usr/bin/env bash
# Prints the path of the cached virtualenv holding the third-party packages of the Python tests
# (requirements-test.txt), creating it first when it is missing or out of date. One virtualenv
# per requirements file and interpreter, under ~/.cache; older ones are removed.
#
# Environment: PYTHON (default python3), CBI_PY_DEPS (use this folder instead).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
PYTHON="${PYTHON:-python3}"
command -v "$PYTHON" >/dev/null || { echo "$PYTHON not found: install CPython 3.9 or later" >&2; exit 1; }
key="$( { cat "$HERE/requirements-test.txt"; "$PYTHON" -c 'import sys; print(sys.version)'; } | sha256sum | cut -c1-16)"
DEPS="${CBI_PY_DEPS:-$HOME/.cache/heliosdb-cbi-python/deps-$key}"
if [ ! -f "$DEPS/.complete" ]; then
  echo "python: installing test dependencies into $DEPS" >&2
  rm -rf "$DEPS"
  # Virtualenvs of older requirement sets are of no further use.
  [ -n "${CBI_PY_DEPS:-}" ] || find "$(dirname "$DEPS")" -maxdepth 1 -name 'deps-*' -type d -exec rm -rf {} + 2>/dev/null || true
  "$PYTHON" -m venv "$DEPS"
  "$DEPS/bin/python" -m pip install -q --disable-pip-version-check -r "$HERE/requirements-test.txt" >&2
  touch "$DEPS/.complete"
fi
echo "$DEPS"
