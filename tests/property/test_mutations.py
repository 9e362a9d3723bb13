"""No internal error on random mutations of valid programs.

Every example is mutated (lines deleted, duplicated or swapped; characters deleted, duplicated,
swapped or replaced by structurally interesting ones) and run through parse, check and fmt.
Whatever the damage, the compiler answers with diagnostics, never with an exception.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracemind.compiler.check import check
from tracemind.compiler.diagnostics import Sink
from tracemind.compiler.fmt import format_source
from tracemind.compiler.parse import parse_document
from tracemind.compiler.source import SourceFile

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted(
    (p.suffix[1:], p.read_text(encoding="utf-8"))
    for p in (ROOT / "examples").rglob("*")
    if p.suffix in (".wdl", ".pdl")
)
NOISE = [*"()[]{}\"':#-\t $.=,@\\", "\n", "  ", "é", "when ", "else:", "\x00"]


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, str]:
    lang, text = draw(st.sampled_from(SOURCES))
    for _ in range(draw(st.integers(1, 4))):
        lines = text.split("\n")
        op = draw(st.sampled_from(["del_line", "dup_line", "swap_lines", "del_char",
                                   "dup_char", "swap_chars", "insert"]))
        if op.endswith("line") or op.endswith("lines"):
            i = draw(st.integers(0, len(lines) - 1))
            j = draw(st.integers(0, len(lines) - 1))
            if op == "del_line":
                del lines[i]
            elif op == "dup_line":
                lines.insert(i, lines[i])
            else:
                lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
            continue
        if not text:
            continue
        i = draw(st.integers(0, len(text) - 1))
        j = draw(st.integers(0, len(text) - 1))
        if op == "del_char":
            text = text[:i] + text[i + 1 :]
        elif op == "dup_char":
            text = text[:i] + text[i] + text[i:]
        elif op == "swap_chars":
            chars = list(text)
            chars[i], chars[j] = chars[j], chars[i]
            text = "".join(chars)
        else:
            text = text[:i] + draw(st.sampled_from(NOISE)) + text[i:]
    return lang, text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_no_internal_error_on_mutated_programs(case: tuple[str, str]) -> None:
    lang, text = case
    source = SourceFile(f"m.{lang}", text)
    sink = Sink()
    doc = parse_document(source, sink, lang)
    if doc is not None:
        check([(source, doc)], sink, strict=True)
    for d in sink.diagnostics():
        assert d.code != "TM0901"
        assert d.span.line >= 1 and d.span.column >= 1
        assert d.message
    formatted, _ = format_source(source, lang)
    if formatted is not None:
        reparsed = parse_document(SourceFile(f"m.{lang}", formatted), Sink(), lang)
        assert reparsed == doc
        again, _ = format_source(SourceFile(f"m.{lang}", formatted), lang)
        assert again == formatted
