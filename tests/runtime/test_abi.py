"""The ABI module exports exactly the names of docs/internals.md, and imports cheaply."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tracemind.runtime import abi
from tracemind.stdlib.builtins import BUILTINS

INTERNALS = Path(__file__).resolve().parents[2] / "docs" / "internals.md"


def test_all_is_the_documented_table() -> None:
    text = INTERNALS.read_text(encoding="utf-8")
    table = text.split("## The ABI module", 1)[1].split("\n## ", 1)[0]
    documented = {m.group(1) for m in re.finditer(r"^\| `(\w+)", table, re.MULTILINE)}
    documented.discard("b_")
    builtins = {f"b_{name}" for name in BUILTINS if name != "coalesce"}
    assert set(abi.__all__) == documented | builtins
    assert len(abi.__all__) == len(set(abi.__all__))
    for name in abi.__all__:
        assert hasattr(abi, name), name


def test_importing_the_abi_loads_nothing_heavy() -> None:
    probe = ("import sys, tracemind.runtime.abi\n"
             "print(sorted(m for m in ('asyncio', 'hashlib', 'tracemind.compiler', "
             "'tracemind.runtime.executor') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"
