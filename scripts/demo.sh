#!/usr/bin/env bash
# The demo: install, then lint every example, check the canonical layout of the v1 examples,
# show what `tmc fmt` would change in the verbatim v0 example, and dump an AST.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
set -x
tmc --version
tmc lint examples/
tmc lint --format json examples/compat/
tmc fmt --check examples/plant-monitor-v1 examples/fleet-health
tmc fmt --diff examples/compat/
tmc dump --stage ast examples/compat/plant-monitor.pdl
