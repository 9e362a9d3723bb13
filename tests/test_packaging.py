"""Every Python package in the source folders is listed in pyproject.toml's package list.

The folders are mapped to ``tracemind.*`` names with setuptools' ``package-dir``, so packages
are listed by hand; a sub-package missing from the list is missing from wheels (the editable
install used in development does not show it).  This test fails fast, before the slow wheel test.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {"compiler": "tracemind.compiler", "runtime": "tracemind.runtime",
           "stdlib": "tracemind.stdlib", "grammar": "tracemind.grammar"}


def test_every_package_is_listed() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    found = {"tracemind"}
    for folder, name in FOLDERS.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            parts = init.parent.relative_to(ROOT / folder).parts
            found.add(".".join((name, *parts)))
    assert found - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"
    assert listed - found == set(), "these listed packages do not exist"
