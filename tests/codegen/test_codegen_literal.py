"""The repr-safe emitter: every value comes back equal, nothing else is accepted."""

from __future__ import annotations

import ast
import math
from typing import Any

import pytest
from cg_helpers import load_module
from hypothesis import given
from hypothesis import strategies as st

from tracemind.compiler.codegen.literal import (
    UnsafeValue,
    call_lines,
    mangle,
    py_literal,
    py_literal_lines,
)
from tracemind.compiler.codegen.writer import wrap

NASTY = [
    "", "'", '"', '"""', "'''", "\\", "\\'", "a\nb", "\r", "\x00", "\u2028", "\u202e",
    "{{ x }}", "{% if %}", "# comment", "__import__('os').system('id')", "é漢字🙂",
    "\ud800", "x" * 10_000, "\\N{BULLET}", "\x0c\x0b", "\t",
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(
            _same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def _roundtrip(value: Any) -> Any:
    return load_module(f"VALUE = {py_literal(value)}\n").VALUE


@pytest.mark.parametrize("text", NASTY, ids=range(len(NASTY)))
def test_strings_come_back_as_data(text: str) -> None:
    source = py_literal(text)
    assert "\n" not in source and "\r" not in source
    assert ast.literal_eval(source) == text
    assert _roundtrip({text: [text]}) == {text: [text]}


@given(json_values)
def test_any_json_value_round_trips(value: Any) -> None:
    assert _same(_roundtrip(value), value)


@given(json_values)
def test_broken_over_lines_is_the_same_value(value: Any) -> None:
    text = "\n".join(py_literal_lines(value, 0, 20, prefix="VALUE = "))
    assert _same(load_module(text + "\n").VALUE, value)


def test_numbers() -> None:
    assert py_literal(float("inf")) == "float('inf')"
    assert py_literal(float("-inf")) == "float('-inf')"
    assert py_literal(float("nan")) == "float('nan')"
    assert py_literal(-0.0) == "-0.0"
    assert py_literal(True) == "True" and py_literal(None) == "None"
    huge = 7 ** 20_000  # beyond the int-to-str digit limit
    assert _roundtrip(huge) == huge


@pytest.mark.parametrize("value", [object(), {1: 2}, {"a": {3}}, b"bytes", 1j])
def test_other_values_are_refused(value: object) -> None:
    with pytest.raises((UnsafeValue, TypeError)):
        py_literal(value)


@pytest.mark.parametrize("name", ["a", "_x", "A9_b"])
def test_mangle_prefixes_identifiers(name: str) -> None:
    assert mangle("step", name) == "s_" + name
    assert mangle("input", name) == "i_" + name


@pytest.mark.parametrize("name", ["", "9a", "a-b", "a.b", "a b", "é", "a\n", "x)or(1"])
def test_mangle_refuses_anything_else(name: str) -> None:
    with pytest.raises(UnsafeValue):
        mangle("var", name)


def test_call_lines_wraps_at_the_width() -> None:
    args = [f"argument_{i}" for i in range(12)]
    lines = call_lines("StepSite", args, 4, 60, ",")
    assert len(lines) > 1 and all(len(line) <= 60 for line in lines)
    joined = " ".join(line.strip() for line in lines)
    assert joined == "StepSite(" + ", ".join(args) + "),"


@given(st.lists(json_values, min_size=1, max_size=6), st.integers(min_value=20, max_value=100))
def test_wrapped_lines_mean_the_same(values: list[Any], width: int) -> None:
    line = "    VALUE = dict(x=[" + ", ".join(py_literal(v) for v in values) + "])"
    pieces = wrap(line, width)
    text = "if True:\n" + "\n".join(pieces) + "\n"
    assert _same(load_module(text).VALUE["x"], values)
    if len(pieces) > 1:
        assert all(p.startswith("        ") for p in pieces[1:])
