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
# Graphviz renders `tmc graph --format svg`; its tests need `dot`.  Installed from Debian's
# packages when missing and we may (root with apt-get, as on CI machines).
if ! command -v dot >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq >/dev/null && apt-get install -y -qq graphviz >/dev/null
  else
    echo "note: Graphviz (dot) is not installed; tmc graph --format svg will say so" >&2
  fi
fi
