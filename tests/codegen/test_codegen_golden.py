"""Golden generated modules: one small source per construct in tests/golden/codegen/, with the
expected module beside it (``<stem>.py``).  Regenerate with ``pytest tests/codegen
--update-golden`` and review the diff.  Sources whose name starts with ``concurrent`` compile
at -O2, the others at -O1."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tracemind.compiler.bundle import compile_to_memory

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "codegen"
SOURCES = sorted(p for p in GOLDEN.iterdir() if p.suffix in (".wdl", ".pdl"))


def _generated(source: Path) -> str:
    level = 2 if source.name.startswith("concurrent") else 1
    bundle = compile_to_memory([str(source)], level)
    (entry,) = bundle.manifest["flows"] + bundle.manifest["policies"]
    return bundle[entry["module"]].decode("utf-8")


def test_every_construct_has_a_golden_source() -> None:
    assert {p.stem for p in SOURCES} >= {
        "step", "when_else", "parallel", "for", "on_error", "concurrent", "choose",
        "if_elif_else", "coalesce", "arms"}


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_generated_module_matches_golden(source: Path, update_golden: bool) -> None:
    got = _generated(source)
    ast.parse(got)
    assert all(len(line) <= 100 for line in got.splitlines())
    golden = source.with_suffix(".py")
    if update_golden:
        golden.write_text(got, encoding="utf-8")
    assert golden.exists(), f"missing {golden}; run pytest tests/codegen --update-golden"
    assert got == golden.read_text(encoding="utf-8")
