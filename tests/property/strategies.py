"""Hypothesis strategies that write WDL and PDL source text with varied layout.

The text varies where the language allows it (spaces around operators, redundant parentheses,
quote styles, flow or block arguments, v0 mapping-form bodies, comments, blank lines), so the
formatter's round trip is tested on layouts people actually write.
"""

from __future__ import annotations

import json

from hypothesis import strategies as st

NAMES = ["temp", "limit", "x", "y", "values", "count"]
INPUTS = ["a", "b", "nodes", "endpoint"]
FUNCS = ["len", "min", "max", "abs", "coalesce", "str", "lower"]

_space = st.sampled_from(["", " ", "  "])
_space1 = st.sampled_from([" ", "  "])

_text = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs",),
        blacklist_characters="\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029",
    ),
    max_size=12,
)


@st.composite
def string_literal(draw: st.DrawFn) -> str:
    value = draw(_text)
    if draw(st.booleans()):
        return json.dumps(value, ensure_ascii=draw(st.booleans()))
    body = json.dumps(value, ensure_ascii=False)[1:-1].replace('\\"', '"').replace("'", "\\'")
    return "'" + body + "'"


_leaf = st.one_of(
    st.integers(min_value=0, max_value=10**6).map(str),
    st.sampled_from(["1.5", "0.25", "1e3", "2.5E-2"]),
    st.sampled_from(["500ms", "5s", "1.5s", "2m", "1h"]),
    st.sampled_from(["true", "false", "null"]),
    st.sampled_from(NAMES),
    st.sampled_from(INPUTS).map(lambda name: f"$input.{name}"),
    st.sampled_from(["$step.s0.value", "$step.s1.status", "$step.s0.values[\"k\"]"]),
    string_literal(),
)


def _wrap(draw: st.DrawFn, text: str) -> str:
    return f"({draw(_space)}{text}{draw(_space)})"


@st.composite
def _binary(draw: st.DrawFn, children: st.SearchStrategy[str]) -> str:
    op = draw(st.sampled_from(["+", "-", "*", "/", "//", "%", "==", "!=", "<", "<=", ">", ">=",
                               "and", "or", "in", "not in"]))
    left = _wrap(draw, draw(children))
    right = _wrap(draw, draw(children))
    sp = draw(_space1) if op[0].isalpha() else draw(_space)
    return f"{left}{sp}{op}{sp}{right}"


@st.composite
def _compound(draw: st.DrawFn, children: st.SearchStrategy[str]) -> str:
    kind = draw(st.sampled_from(["not", "neg", "list", "map", "call", "attr", "index", "cond"]))
    child = draw(children)
    if kind == "not":
        return f"not {_wrap(draw, child)}"
    if kind == "neg":
        return f"-{_wrap(draw, child)}"
    if kind == "list":
        items = draw(st.lists(children, max_size=3))
        sep = "," + draw(_space)
        return "[" + draw(_space) + sep.join(items) + draw(_space) + "]"
    if kind == "map":
        keys = draw(st.lists(st.sampled_from(["k", "v", "w", '"a b"', "'c'"]), max_size=3,
                             unique_by=lambda k: k.strip("\"'")))
        parts = [f"{k}:{draw(_space1)}{draw(children)}" for k in keys]
        return "{" + ", ".join(parts) + "}"
    if kind == "call":
        args = draw(st.lists(children, min_size=1, max_size=3))
        return draw(st.sampled_from(FUNCS)) + "(" + ", ".join(args) + ")"
    if kind == "attr":
        return _wrap(draw, child) + "." + draw(st.sampled_from(["field", "value"]))
    if kind == "index":
        return _wrap(draw, child) + "[" + draw(children) + "]"
    then = _wrap(draw, child)
    cond = _wrap(draw, draw(children))
    other = _wrap(draw, draw(children))
    return f"{then} if {cond} else {other}"


expressions = st.recursive(
    _leaf,
    lambda children: st.one_of(_binary(children), _compound(children)),
    max_leaves=12,
)

TYPES = ["string", "int", "float", "bool", "duration", "any", "list<string>", "map<any>",
         "list<map<int>>", "{a: int, b: list<string>}", "string?", "map<float>?"]


@st.composite
def comment(draw: st.DrawFn) -> str:
    return "# " + draw(st.text(alphabet="abc xyz:#'\"-", max_size=10)).rstrip()


@st.composite
def _maybe_trailing(draw: st.DrawFn) -> str:
    return ("  " + draw(comment())) if draw(st.integers(0, 5)) == 0 else ""


class _Ids:
    def __init__(self) -> None:
        self.count = 0

    def next(self) -> str:
        self.count += 1
        return f"s{self.count - 1}"


@st.composite
def _step_lines(draw: st.DrawFn, indent: int, ids: _Ids, v1: bool, depth: int) -> list[str]:
    pad = " " * indent
    kinds = ["step", "step", "when"] + (["parallel", "for"] if v1 else [])
    kind = draw(st.sampled_from(kinds)) if depth < 2 else "step"
    lines: list[str] = []
    if draw(st.integers(0, 6)) == 0:
        lines.append(pad + draw(comment()))
    if kind == "step":
        step_id = ids.next()
        args = draw(st.lists(st.sampled_from(["message", "value", "url", "level"]), max_size=3,
                             unique=True))
        head = f"{pad}- {step_id}(core.{draw(st.sampled_from(['log', 'set']))}):"
        opts = []
        if v1 and draw(st.booleans()):
            opts.append(("@timeout", draw(st.sampled_from(["5s", "100ms"]))))
        if v1 and draw(st.integers(0, 3)) == 0:
            opts.append(("@on_error", draw(st.sampled_from(["continue", "fail"]))))
        pairs = [(a, draw(expressions)) for a in args] + opts
        if not pairs:
            return [*lines, head + " {}" + draw(_maybe_trailing())]
        if draw(st.booleans()) and all("#" not in v for _, v in pairs):
            inner = ", ".join(f"{k}: {v}" for k, v in pairs)
            return [*lines, f"{head} {{{inner}}}"]
        lines.append(head + draw(_maybe_trailing()))
        for k, v in pairs:
            lines.append(f"{pad}    {k}:{draw(_space1)}{v}" + draw(_maybe_trailing()))
        return lines
    body_indent = indent + 4
    if kind == "when":
        lines.append(f"{pad}- when {draw(expressions)}:" + draw(_maybe_trailing()))
        if not v1 and draw(st.booleans()):
            step_id = ids.next()
            lines.append(f"{pad}    {step_id}(core.log):")
            lines.append(f"{pad}      message: {draw(expressions)}")
        else:
            for _ in range(draw(st.integers(1, 2))):
                lines.extend(draw(_step_lines(body_indent, ids, v1, depth + 1)))
        if v1 and draw(st.booleans()):
            lines.append(f"{pad}  else:")
            lines.extend(draw(_step_lines(body_indent, ids, v1, depth + 1)))
        return lines
    if kind == "parallel":
        lines.append(f"{pad}- parallel:")
    else:
        lines.append(f"{pad}- for item in {draw(expressions)}:")
    for _ in range(draw(st.integers(1, 2))):
        lines.extend(draw(_step_lines(body_indent, ids, v1, depth + 1)))
    return lines


@st.composite
def workflows(draw: st.DrawFn) -> str:
    v1 = draw(st.booleans())
    lines = [f"version: dsl/{'v1' if v1 else 'v0'}", "workflow: " + draw(
        st.sampled_from(["w", "plant-monitor", "a.b_c"]))]
    if draw(st.booleans()):
        lines.append("description: " + draw(st.sampled_from(
            ["plain words", '"quoted: text"', "'single'"])))
    if draw(st.booleans()):
        lines += ["triggers:", '  cron: {schedule: "*/5 * * * *", timezone: UTC}']
    inputs = draw(st.lists(st.sampled_from(INPUTS), max_size=3, unique=True))
    if inputs:
        lines.append("inputs:")
        for name in inputs:
            default = f" = {draw(expressions)}" if draw(st.integers(0, 3)) == 0 else ""
            lines.append(f"  {name}: {draw(st.sampled_from(TYPES))}{default}"
                         + draw(_maybe_trailing()))
    if draw(st.booleans()):
        lines.append("")
    lines.append("steps:")
    ids = _Ids()
    for _ in range(draw(st.integers(1, 4))):
        lines.extend(draw(_step_lines(2, ids, v1, 0)))
    if draw(st.booleans()):
        lines += ["outputs:", f"  out: {draw(expressions)}"]
    return "\n".join(lines) + "\n"


@st.composite
def _pdl_statements(draw: st.DrawFn, indent: int, depth: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["assign", "assign", "if", "choose"])) if depth < 2 \
            else "assign"
        if kind == "assign":
            op = draw(st.sampled_from(["=", ":="]))
            lines.append(f"{pad}{draw(st.sampled_from(NAMES))} {op} {draw(expressions)}"
                         + draw(_maybe_trailing()))
        elif kind == "if":
            lines.append(f"{pad}if {draw(expressions)}:")
            lines.extend(draw(_pdl_statements(indent + 2, depth + 1)))
            for _ in range(draw(st.integers(0, 2))):
                lines.append(f"{pad}elif {draw(expressions)}:")
                lines.extend(draw(_pdl_statements(indent + 2, depth + 1)))
            if draw(st.booleans()):
                lines.append(f"{pad}else:")
                lines.extend(draw(_pdl_statements(indent + 2, depth + 1)))
        else:
            lines.append(f"{pad}choose:")
            for i in range(draw(st.integers(1, 3))):
                body = draw(expressions)
                if draw(st.booleans()):
                    body = f"action = {body}"
                if draw(st.booleans()):
                    body += f" with p{draw(_space)}={draw(_space)}0.{i + 1}"
                lines.append(f"{pad}  opt{i}: {body}")
    return lines


@st.composite
def policies(draw: st.DrawFn) -> str:
    v1 = draw(st.booleans())
    lines = [f"version: pdl/{'v1' if v1 else 'v0'}"]
    if draw(st.booleans()):
        lines.append("policy: p")
    if draw(st.booleans()):
        lines += ["inputs:", "  values: map<float>"]
    if draw(st.booleans()):
        lines += ["arms:", "  default: {threshold: 75.0, action: WRITE_BACK, node: ns=2;i=5001}",
                  "  other:", "    threshold: 60", "    action: 'NONE'", "    node: x"]
    if draw(st.booleans()):
        lines.append("epsilon: " + draw(st.sampled_from(["0.1", "[1, 2]", "{a: b}", "text"])))
    lines.append("evaluate:")
    lines.extend(draw(_pdl_statements(2, 0)))
    lines.append("emit:")
    lines.append(f"  action: {draw(expressions)}")
    return "\n".join(lines) + "\n"
