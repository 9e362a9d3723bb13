#!/usr/bin/env bash
# Create .venv (if missing) and install TraceMind with its development extras into it.
# Sourced by demo.sh and test.sh; safe to run again (pip skips what is already there).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
# The plugin example (examples/plugin-steps) registers step kinds through an entry point; it is
# installed too, so its workflow lints, compiles and runs with the other examples.
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-build-isolation \
  -e examples/plugin-steps
