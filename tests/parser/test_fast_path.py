"""The regex fast path and the Lark grammar build equal trees wherever the fast path answers."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tracemind.compiler import nodes as n
from tracemind.compiler.diagnostics import Sink
from tracemind.compiler.parse import MAX_EXPR_DEPTH, ValueParser
from tracemind.compiler.source import SourceFile

_atoms = st.sampled_from([
    "1", "42", "1.5", "2e3", "5s", "200ms", '"text"', "'x y'", "name", "a.b.c", "$input.x",
    "$step.s1.status", "true", "and", "not", "in", "$bogus.x", "True", "x.in", "7.x",
])
_ops = st.sampled_from(["+", "-", "*", "/", "//", "%", "==", "!=", "<", "<=", ">", ">=",
                        "and", "or", "in", "not in", "if"])
_gap = st.sampled_from([" ", "", "  "])


@st.composite
def _operand(draw: st.DrawFn, depth: int) -> str:
    shape = draw(st.sampled_from(["atom", "atom", "call", "list"])) if depth < 3 else "atom"
    if shape == "atom":
        return draw(_atoms)
    items = [draw(chains(depth + 1)) for _ in range(draw(st.integers(0, 3)))]
    sep = "," + draw(_gap)
    trail = draw(st.sampled_from(["", ","])) if items else ""
    body = sep.join(items) + trail
    if shape == "call":
        name = draw(st.sampled_from(["len", "coalesce", "f", "not", "and", "True"]))
        return f"{name}{draw(st.sampled_from(['', ' ']))}({body})"
    return f"[{draw(_gap)}{body}]"


@st.composite
def chains(draw: st.DrawFn, depth: int = 0) -> str:
    parts = [draw(_operand(depth))]
    for _ in range(draw(st.integers(0, 5))):
        op = draw(_ops)
        gap = " " if op[0].isalpha() else draw(_gap)
        parts += [gap + op + gap, draw(_operand(depth))]
    return "".join(parts)


def _both(text: str) -> tuple[n.Expr | None, n.Expr | None]:
    source = SourceFile("x.wdl", text)
    parser = ValueParser(source, Sink(), v0=False)
    fast = parser.fast.parse(0, len(text))
    slow = parser._run(parser.parsers.expr, 0, len(text), "expr_start", "expression")
    return fast, slow


@settings(max_examples=1500, deadline=None)
@given(chains())
def test_fast_path_agrees_with_lark(text: str) -> None:
    fast, slow = _both(text)
    if fast is not None:
        assert fast == slow
        assert fast.span == slow.span


def test_fast_path_covers_the_common_shapes() -> None:
    for text in ["$step.read.values", '"x" + $input.a', "a >= 3 and b < 4 or c",
                 "1 + 2 * 3 - 4 // 5 % 6", "arms.active.threshold - 5",
                 "coalesce($step.s1.value, $step.s2.value, 0)", "len($step.r) * 2",
                 '["WRITE_BACK", "SHUTDOWN"]', "max([1, 2.5], 3)", "f()", "[]", "[1,]"]:
        fast, slow = _both(text)
        assert fast is not None and fast == slow, text


def test_fast_path_declines_what_it_does_not_know() -> None:
    for text in ["a == b == c", "not a", "a in b", "f(x).y", "a[0]", "-3", "true", "(1)",
                 "f(x)[0]", "[1][0]", "True", "g(not x)", "[-1]", '"a\\n"',
                 "1 +" + " 1 +" * MAX_EXPR_DEPTH + " 1"]:
        fast, _ = _both(text)
        assert fast is None, text


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(["x", "temp", "true", "_a1"]),
       st.sampled_from(["=", ":=", " = ", "==", "=  "]), chains())
def test_fast_statements_agree_with_lark(target: str, op: str, value: str) -> None:
    text = target + op + value
    source = SourceFile("x.pdl", text)
    parser = ValueParser(source, Sink(), v0=False)
    fast = parser._fast_statement(0, len(text))
    slow = parser._run(parser.parsers.expr, 0, len(text), "stmt_start", "statement")
    if fast is not None:
        assert fast == slow
        assert fast.span == slow.span and fast.target_span == slow.target_span
        assert fast.walrus == slow.walrus
