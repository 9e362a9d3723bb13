#!/usr/bin/env bash
# The demo: install; lint every example, check the canonical layout of the v1 examples, show
# what `tmc fmt` would change in the verbatim v0 example, dump an AST; then compile an example
# into a bundle, show its plan and run it end to end.
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
# The back end: compile an example into a bundle, look at its plan, and run it end to end.
tmc plan examples/fleet-health/fleet-health.wdl
tmc compile examples/thermostat -o build/demo/thermostat
tm run build/demo/thermostat -i @examples/thermostat/input.json --format text
tm policy eval build/demo/thermostat thermostat -i '{"values": {"hall": 27.5}}' --arm eco --seed 1
tm run examples/thermostat/thermostat.wdl -i '{"readings": {"a": 21.0}}'
