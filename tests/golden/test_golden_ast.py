"""Golden AST dumps of the examples (`tmc dump --stage ast`).

Regenerate with ``pytest tests/golden --update-golden`` and review the diff.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tracemind.compiler.diagnostics import Sink
from tracemind.compiler.dump import dump_ast
from tracemind.compiler.parse import parse_document
from tracemind.compiler.source import SourceFile

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parent / "ast"
EXAMPLES = sorted(p for p in (ROOT / "examples").rglob("*") if p.suffix in (".wdl", ".pdl"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: str(p.relative_to(ROOT / "examples")))
def test_ast_dump_matches_golden(path: Path, update_golden: bool) -> None:
    rel = path.relative_to(ROOT / "examples")
    source = SourceFile(str(rel), path.read_text(encoding="utf-8"))
    doc = parse_document(source, Sink(), path.suffix[1:])
    assert doc is not None
    got = dump_ast(doc)
    golden = GOLDEN / (str(rel).replace("/", "__") + ".ast")
    if update_golden:
        golden.write_text(got, encoding="utf-8")
    assert golden.exists(), f"missing {golden}; run pytest tests/golden --update-golden"
    assert got == golden.read_text(encoding="utf-8")
