#!/usr/bin/env bash
# mypy --strict over the package by its import names.  The top-level folders are mapped to
# tracemind.* by setuptools' package-dir, which mypy cannot follow through the editable-install
# import hook, so a tree of directory links under build/ gives mypy the installed layout.
set -euo pipefail
cd "$(dirname "$0")/.."
py="${PYTHON:-.venv/bin/python}"
tree=build/mypy-tree/tracemind
rm -rf build/mypy-tree
mkdir -p "$tree"
ln -s ../../../tracemind/__init__.py "$tree/__init__.py"
ln -s ../../../tracemind/py.typed "$tree/py.typed"
for pkg in compiler runtime stdlib grammar; do
  ln -s "../../../$pkg" "$tree/$pkg"
done
MYPYPATH=build/mypy-tree "$py" -m mypy -p tracemind "$@"
