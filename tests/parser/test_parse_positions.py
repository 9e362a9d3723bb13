"""Token positions are absolute and exact: every leaf's span covers its own source text.

The parser lexes each value in place through a lark internal (the lexer-thread plugin); this
test is the guard that keeps that working across lark versions.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from tracemind.compiler import nodes as n
from tracemind.compiler.diagnostics import Sink
from tracemind.compiler.parse import parse_document
from tracemind.compiler.source import NO_SPAN, SourceFile, Span

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p for p in (ROOT / "examples").rglob("*") if p.suffix in (".wdl", ".pdl"))


def _walk(node: object) -> list[object]:
    out: list[object] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, tuple):
            stack.extend(item)
            continue
        if not dataclasses.is_dataclass(item) or isinstance(item, Span):
            continue
        out.append(item)
        for f in dataclasses.fields(item):
            stack.append(getattr(item, f.name))
    return out


def _check_span(source: SourceFile, span: Span) -> None:
    assert (span.line, span.column) == source.position(span.offset)
    assert (span.end_line, span.end_column) == source.position(span.end_offset)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_leaf_spans_cover_their_text(path: Path) -> None:
    source = SourceFile(str(path), path.read_text(encoding="utf-8"))
    sink = Sink()
    doc = parse_document(source, sink, path.suffix[1:])
    assert doc is not None
    leaves = 0
    for node in _walk(doc):
        span = getattr(node, "span", NO_SPAN)
        if span is NO_SPAN or span == NO_SPAN:
            continue
        _check_span(source, span)
        text = source.text[span.offset : span.end_offset]
        match node:
            case n.Name(id=name):
                assert text == name
                leaves += 1
            case n.Ref(root=root):
                assert text == "$" + root
                leaves += 1
            case n.Literal(text=lit_text) if lit_text and not lit_text.startswith("-"):
                assert text == lit_text
                leaves += 1
            case n.Attr(name=name, name_span=ns):
                assert source.text[ns.offset : ns.end_offset] == name
                assert text.endswith(name)
            case n.Step(id=step_id, kind=kind, id_span=ids, kind_span=ks):
                assert source.text[ids.offset : ids.end_offset] == step_id
                assert source.text[ks.offset : ks.end_offset] == kind
            case n.Binding(name=name, name_span=ns):
                assert source.text[ns.offset : ns.end_offset] == name
    assert leaves >= 5


def test_positions_on_a_late_line_with_non_ascii_text() -> None:
    text = "version: dsl/v1\nworkflow: w\nsteps:\n" + "".join(
        f"  - s{i}(core.log): {{message: \"é{i}\"}}\n" for i in range(50)
    ) + "  - last(core.log):\n      message:  \"ü\" + $step.s3.x\n"
    source = SourceFile("w.wdl", text)
    doc = parse_document(source, Sink(), "wdl")
    assert isinstance(doc, n.Workflow)
    last = doc.steps[-1]
    assert isinstance(last, n.Step)
    value = last.args[0].value
    assert isinstance(value, n.Binary)
    assert (value.span.line, value.span.column) == (55, 17)
    assert isinstance(value.right, n.Attr)
    assert value.right.name_span.column == 32
    first = doc.steps[0]
    assert isinstance(first, n.Step)
    lit = first.args[0].value
    assert (lit.span.line, lit.span.column, lit.span.end_column) == (4, 29, 33)
