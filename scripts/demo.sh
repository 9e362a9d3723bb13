#!/usr/bin/env bash
# The demo: install, then lint and check the formatting of every example.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
set -x
tmc --version
tmc lint examples/
tmc lint --format json examples/compat/plant-monitor.wdl examples/compat/plant-monitor.pdl
tmc fmt --check examples/
