#!/usr/bin/env bash
# The whole check: install, then ruff, mypy --strict and the test suite.  .ci/run calls this.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "== ruff"
.venv/bin/python -m ruff check .
echo "== mypy --strict"
bash scripts/mypy.sh
echo "== pytest"
.venv/bin/python -m pytest "$@"
