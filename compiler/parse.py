"""Lark on each key head and value, at its exact place in the file.

Input: the whole file text and the offsets of one value (from the scanner).  Output: an AST
node (``nodes``) with absolute spans, or ``None`` after reporting one diagnostic for that value
(parsing stops at the first error inside a value; recovery happens at the structure level, one
error per bad value, without cascades).

Positions: Lark lexes the value in place inside the whole text.  A custom lexer thread
(installed through Lark's ``_plugins`` option, hence the pinned lark version) starts Lark's line
counter at the value's offset, line and column, so every token carries absolute positions with
no shifting afterwards and no recounting from the file start.
``tests/parser/test_parse_positions.py`` checks token positions against the source text.

The AST is built during parsing by an inline transformer (no parse tree is materialised).
Nesting is bounded (``MAX_EXPR_DEPTH``) so later tree walks never approach Python's recursion
limit.  Only this module and ``document`` (through it) touch lark.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken
from lark.lexer import LexerState, LexerThread, LineCounter
from lark.utils import TextSlice

from . import nodes as n
from .codes import Severity
from .diagnostics import Edit, Fix, Sink
from .fastparse import FastParser
from .source import SourceFile, Span

MAX_EXPR_DEPTH = 100
"""Deepest expression or data nesting accepted (TM0112 beyond)."""


@dataclass(frozen=True, slots=True)
class Region:
    """A value to parse: ``text[start:end]`` beginning at 1-based ``line``/``column``."""

    text: str
    start: int
    end: int
    line: int
    column: int


class _PlacedLexerThread(LexerThread):
    """A lexer thread whose line counter starts at a :class:`Region`'s absolute position."""

    @classmethod
    def from_custom_input(cls, lexer: Any, text: Any) -> _PlacedLexerThread:
        region: Region = text
        counter = LineCounter("\n")  # type: ignore[no-untyped-call]
        counter.char_pos = region.start
        counter.line = region.line
        counter.column = region.column
        counter.line_start_pos = region.start - region.column + 1
        return cls(lexer, LexerState(TextSlice(region.text, region.start, region.end), counter))


class _TooDeep(Exception):
    def __init__(self, span: Span) -> None:
        super().__init__("too deep")
        self.span = span


class _Abort(Exception):
    """A diagnostic was already reported; the value yields no node."""


def _tok_span(tok: Token) -> Span:
    return Span(
        tok.line or 1,
        tok.column or 1,
        tok.end_line or 1,
        tok.end_column or 1,
        tok.start_pos or 0,
        tok.end_pos or 0,
    )


def _span(item: Any) -> Span:
    if isinstance(item, Token):
        return _tok_span(item)
    span: Span = item.span
    return span


def _cover(first: Any, last: Any) -> Span:
    a = _span(first)
    b = _span(last)
    return Span(a.line, a.column, b.end_line, b.end_column, a.offset, b.end_offset)


_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n",
            "r": "\r", "t": "\t"}


def decode_string(raw: str) -> tuple[str, int | None]:
    """Decode a quoted string token with JSON-style escapes.

    Returns the value and the index (in ``raw``) of the first invalid escape, or None.
    """
    body = raw[1:-1]
    if "\\" not in body:
        return body, None
    out: list[str] = []
    i = 0
    size = len(body)
    while i < size:
        ch = body[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        esc = body[i + 1] if i + 1 < size else ""
        if esc in _ESCAPES:
            out.append(_ESCAPES[esc])
            i += 2
            continue
        if esc == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", body[i + 2 : i + 6]):
            code = int(body[i + 2 : i + 6], 16)
            i += 6
            if 0xD800 <= code < 0xDC00 and body[i : i + 2] == "\\u":
                low_text = body[i + 2 : i + 6]
                if re.fullmatch(r"[0-9a-fA-F]{4}", low_text):
                    low = int(low_text, 16)
                    if 0xDC00 <= low < 0xE000:
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        i += 6
            out.append(chr(code))
            continue
        return "", i + 1
    return "".join(out), None


_UNITS_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000}
_DURATION_RE = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)")


def duration_ms(text: str) -> int | float:
    m = _DURATION_RE.fullmatch(text)
    assert m is not None
    number, unit = m.groups()
    value = (float(number) if "." in number else int(number)) * _UNITS_MS[unit]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


_BINOPS = {op.value: op for op in n.BinOp}
_ASSIGN_HEAD = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)[ \t]*(:=|=(?!=))[ \t]*")
_PYTHON_LITERALS = {"True": ("true", True), "False": ("false", False), "None": ("null", None)}


class _Context:
    """Per-parse state shared by the builders: where to report and which dialect."""

    def __init__(self) -> None:
        self.sink: Sink = Sink()
        self.source: SourceFile | None = None
        self.v0 = True
        self.depth: dict[int, int] = {}

    @property
    def path(self) -> str:
        return self.source.display_path if self.source is not None else "<input>"


class _Depth:
    """Mixin: nesting depth bookkeeping keyed by node identity (cleared per value)."""

    ctx: _Context

    def _nest(self, node: Any, *children: Any) -> Any:
        depth = 1
        table = self.ctx.depth
        for child in children:
            d = table.get(id(child), 0)
            if d >= depth:
                depth = d + 1
        if depth > MAX_EXPR_DEPTH:
            raise _TooDeep(_span(node))
        table[id(node)] = depth
        return node


class _ExprBuilder(Transformer[Token, Any], _Depth):
    """Inline LALR callbacks: Lark reduces, these build AST nodes."""

    def __init__(self, ctx: _Context) -> None:
        super().__init__(visit_tokens=False)
        self.ctx = ctx

    # start rules -------------------------------------------------------------------------
    def expr_start(self, c: list[Any]) -> n.Expr:
        return c[0]  # type: ignore[no-any-return]

    def stmt_start(self, c: list[Any]) -> n.Assign:
        name, assign, value = c
        return n.Assign(
            target=str(name),
            value=value,
            walrus=assign == ":=",
            target_span=_tok_span(name),
            span=_cover(name, value),
        )

    def choose_assign(self, c: list[Any]) -> tuple[str, Span, bool, n.Expr]:
        name, assign, value = c
        return (str(name), _tok_span(name), assign == ":=", value)

    def choose_with_p(self, c: list[Any]) -> tuple[Any, n.Expr | None]:
        return (c[0], c[1])

    def choose_plain(self, c: list[Any]) -> tuple[Any, n.Expr | None]:
        return (c[0], None)

    def for_start(self, c: list[Any]) -> tuple[str, Span, n.Expr]:
        return (str(c[0]), _tok_span(c[0]), c[2])

    def type_plain(self, c: list[Any]) -> tuple[n.TypeExpr, n.Expr | None]:
        return (c[0], None)

    def type_default(self, c: list[Any]) -> tuple[n.TypeExpr, n.Expr | None]:
        return (c[0], c[1])

    # expressions -------------------------------------------------------------------------
    def conditional(self, c: list[Any]) -> n.Expr:
        then, cond, otherwise = c
        node = n.Conditional(
            cond=cond, then=then, otherwise=otherwise, span=_cover(then, otherwise)
        )
        return self._nest(node, then, cond, otherwise)  # type: ignore[no-any-return]

    def _binary(self, op: n.BinOp, left: n.Expr, right: n.Expr, op_tok: Token | None) -> n.Expr:
        node = n.Binary(
            op=op,
            left=left,
            right=right,
            span=_cover(left, right),
            op_span=_tok_span(op_tok) if op_tok is not None else left.span,
        )
        return self._nest(node, left, right)  # type: ignore[no-any-return]

    def or_op(self, c: list[Any]) -> n.Expr:
        return self._binary(n.BinOp.OR, c[0], c[1], None)

    def and_op(self, c: list[Any]) -> n.Expr:
        return self._binary(n.BinOp.AND, c[0], c[1], None)

    def not_op(self, c: list[Any]) -> n.Expr:
        node = n.Unary(op=n.UnaryOp.NOT, operand=c[1], span=_cover(c[0], c[1]))
        return self._nest(node, c[1])  # type: ignore[no-any-return]

    def compare(self, c: list[Any]) -> n.Expr:
        return self._binary(_BINOPS[str(c[1])], c[0], c[2], c[1])

    def in_op(self, c: list[Any]) -> n.Expr:
        return self._binary(n.BinOp.IN, c[0], c[2], c[1])

    def not_in_op(self, c: list[Any]) -> n.Expr:
        node = self._binary(n.BinOp.NOT_IN, c[0], c[3], c[1])
        assert isinstance(node, n.Binary)
        return n.Binary(op=node.op, left=node.left, right=node.right, span=node.span,
                        op_span=_cover(c[1], c[2]))

    def arith(self, c: list[Any]) -> n.Expr:
        return self._binary(_BINOPS[str(c[1])], c[0], c[2], c[1])

    def neg(self, c: list[Any]) -> n.Expr:
        minus, operand = c
        span = _cover(minus, operand)
        if isinstance(operand, n.Literal) and operand.kind in (n.LitKind.INT, n.LitKind.FLOAT):
            value = operand.value
            assert isinstance(value, int | float) and not isinstance(value, bool)
            return n.Literal(kind=operand.kind, value=-value, text="-" + operand.text, span=span)
        node = n.Unary(op=n.UnaryOp.NEG, operand=operand, span=span)
        return self._nest(node, operand)  # type: ignore[no-any-return]

    def attr(self, c: list[Any]) -> n.Expr:
        obj, name = c
        node = n.Attr(obj=obj, name=str(name), name_span=_tok_span(name), span=_cover(obj, name))
        return self._nest(node, obj)  # type: ignore[no-any-return]

    def index(self, c: list[Any]) -> n.Expr:
        obj, _, idx, close = c
        node = n.Index(obj=obj, index=idx, span=_cover(obj, close))
        return self._nest(node, obj, idx)  # type: ignore[no-any-return]

    def call(self, c: list[Any]) -> n.Expr:
        name, _, args, close = c
        items = tuple(args) if args is not None else ()
        node = n.Call(
            func=str(name), args=items, func_span=_tok_span(name), span=_cover(name, close)
        )
        return self._nest(node, *items)  # type: ignore[no-any-return]

    def args(self, c: list[Any]) -> tuple[n.Expr, ...]:
        return tuple(c)

    def name(self, c: list[Any]) -> n.Expr:
        tok: Token = c[0]
        text = str(tok)
        if text in _PYTHON_LITERALS:
            want, value = _PYTHON_LITERALS[text]
            span = _tok_span(tok)
            ctx = self.ctx
            ctx.sink.report(
                "TM0602",
                ctx.path,
                span,
                found=text,
                want=want,
                severity=Severity.WARNING if ctx.v0 else Severity.ERROR,
                help="v1 documents accept only lowercase `true`, `false` and `null`",
                fixes=[Fix(f"write `{want}`", (Edit(span, want),))],
            )
            kind = n.LitKind.NULL if value is None else n.LitKind.BOOL
            return n.Literal(kind=kind, value=value, text=want, span=span)
        return n.Name(id=text, span=_tok_span(tok))

    def ref(self, c: list[Any]) -> n.Expr:
        tok: Token = c[0]
        root = str(tok)[1:]
        span = _tok_span(tok)
        if root not in ("input", "step"):
            ctx = self.ctx
            guess = difflib.get_close_matches("$" + root, ["$input", "$step"], n=1, cutoff=0.5)
            ctx.sink.report(
                "TM0201",
                ctx.path,
                span,
                name=str(tok),
                help=f"did you mean `{guess[0]}`?" if guess else "references are `$input.<name>` "
                "and `$step.<id>.<field>`",
                fixes=[Fix(f"write `{guess[0]}`", (Edit(span, guess[0]),))] if guess else [],
            )
        return n.Ref(root=root, span=span)

    def int_lit(self, c: list[Any]) -> n.Expr:
        return n.Literal(kind=n.LitKind.INT, value=int(c[0]), text=str(c[0]), span=_tok_span(c[0]))

    def float_lit(self, c: list[Any]) -> n.Expr:
        return n.Literal(
            kind=n.LitKind.FLOAT, value=float(c[0]), text=str(c[0]), span=_tok_span(c[0])
        )

    def duration_lit(self, c: list[Any]) -> n.Expr:
        text = str(c[0])
        return n.Literal(
            kind=n.LitKind.DURATION, value=duration_ms(text), text=text, span=_tok_span(c[0])
        )

    def string_lit(self, c: list[Any]) -> n.Expr:
        return n.Literal(
            kind=n.LitKind.STRING, value=self._string(c[0]), text=str(c[0]), span=_tok_span(c[0])
        )

    def _string(self, tok: Token) -> str:
        value, bad = decode_string(str(tok))
        if bad is not None:
            start = (tok.start_pos or 0) + bad
            ctx = self.ctx
            assert ctx.source is not None
            escape = str(tok)[bad : bad + 2]
            ctx.sink.report(
                "TM0114",
                ctx.path,
                ctx.source.span(start, start + len(escape)),
                escape=escape,
                help="valid escapes: \\n \\t \\r \\b \\f \\/ \\\" \\' \\\\ \\uXXXX",
            )
            raise _Abort
        return value

    def true_lit(self, c: list[Any]) -> n.Expr:
        return n.Literal(kind=n.LitKind.BOOL, value=True, text="true", span=_tok_span(c[0]))

    def false_lit(self, c: list[Any]) -> n.Expr:
        return n.Literal(kind=n.LitKind.BOOL, value=False, text="false", span=_tok_span(c[0]))

    def null_lit(self, c: list[Any]) -> n.Expr:
        return n.Literal(kind=n.LitKind.NULL, value=None, text="null", span=_tok_span(c[0]))

    def paren(self, c: list[Any]) -> n.Expr:
        inner: n.Expr = c[1]
        self.ctx.depth[id(inner)] = self.ctx.depth.get(id(inner), 0) + 1
        if self.ctx.depth[id(inner)] > MAX_EXPR_DEPTH:
            raise _TooDeep(_cover(c[0], c[2]))
        return inner

    def list_lit(self, c: list[Any]) -> n.Expr:
        items = tuple(x for x in c[1:-1] if x is not None)
        node = n.ListExpr(items=items, span=_cover(c[0], c[-1]))
        return self._nest(node, *items)  # type: ignore[no-any-return]

    def map_lit(self, c: list[Any]) -> n.Expr:
        entries = tuple(x for x in c[1:-1] if x is not None)
        seen: set[str] = set()
        for entry in entries:
            if entry.key in seen:
                ctx = self.ctx
                ctx.sink.report("TM0115", ctx.path, entry.key_span, key=entry.key)
            seen.add(entry.key)
        node = n.MapExpr(entries=entries, span=_cover(c[0], c[-1]))
        return self._nest(node, *(e.value for e in entries))  # type: ignore[no-any-return]

    def entry(self, c: list[Any]) -> n.MapEntry:
        key_tok, value = c
        key = self._string(key_tok) if key_tok.type == "STRING" else str(key_tok)
        return n.MapEntry(
            key=key, value=value, key_span=_tok_span(key_tok), span=_cover(key_tok, value)
        )

    # types -------------------------------------------------------------------------------
    def named_type(self, c: list[Any]) -> n.TypeExpr:
        return n.NamedType(name=str(c[0]), span=_tok_span(c[0]))

    def generic_type(self, c: list[Any]) -> n.TypeExpr:
        name, _, inner, close = c
        span = _cover(name, close)
        if str(name) == "list":
            node: n.TypeExpr = n.ListType(item=inner, span=span)
        elif str(name) == "map":
            node = n.MapType(value=inner, span=span)
        else:
            ctx = self.ctx
            ctx.sink.report(
                "TM0301",
                ctx.path,
                _tok_span(name),
                name=f"{name}<...>",
                help="the generic types are `list<T>` and `map<T>`",
            )
            raise _Abort
        return self._nest(node, inner)  # type: ignore[no-any-return]

    def optional_type(self, c: list[Any]) -> n.TypeExpr:
        node = n.OptionalType(inner=c[0], span=_cover(c[0], c[1]))
        return self._nest(node, c[0])  # type: ignore[no-any-return]

    def record_type(self, c: list[Any]) -> n.TypeExpr:
        fields = tuple(x for x in c[1:-1] if x is not None)
        node = n.RecordType(fields=fields, span=_cover(c[0], c[-1]))
        return self._nest(node, *(f.type for f in fields))  # type: ignore[no-any-return]

    def field(self, c: list[Any]) -> n.RecordField:
        return n.RecordField(name=str(c[0]), type=c[1], span=_cover(c[0], c[1]))


_CORE_NULL = frozenset({"null", "Null", "NULL", "~"})
_CORE_TRUE = frozenset({"true", "True", "TRUE"})
_CORE_FALSE = frozenset({"false", "False", "FALSE"})
_CORE_INT = re.compile(r"[-+]?[0-9]+")
_CORE_OCT = re.compile(r"0o[0-7]+")
_CORE_HEX = re.compile(r"0x[0-9a-fA-F]+")
_CORE_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_CORE_INF = re.compile(r"[-+]?\.(inf|Inf|INF)")
_CORE_NAN = re.compile(r"\.(nan|NaN|NAN)")


def core_scalar(text: str) -> int | float | str | bool | None:
    """Resolve a plain scalar by the YAML 1.2 core schema."""
    if text in _CORE_NULL or text == "":
        return None
    if text in _CORE_TRUE:
        return True
    if text in _CORE_FALSE:
        return False
    if _CORE_INT.fullmatch(text):
        return int(text)
    if _CORE_OCT.fullmatch(text):
        return int(text[2:], 8)
    if _CORE_HEX.fullmatch(text):
        return int(text[2:], 16)
    if _CORE_FLOAT.fullmatch(text):
        return float(text)
    if _CORE_INF.fullmatch(text):
        return float("-inf") if text.startswith("-") else float("inf")
    if _CORE_NAN.fullmatch(text):
        return float("nan")
    return text


class _DataBuilder(Transformer[Token, Any], _Depth):
    def __init__(self, ctx: _Context, strings: Callable[[Token], str]) -> None:
        super().__init__(visit_tokens=False)
        self.ctx = ctx
        self._string = strings

    def start(self, c: list[Any]) -> n.Data:
        return c[0]  # type: ignore[no-any-return]

    def data_map(self, c: list[Any]) -> n.Data:
        entries = tuple(x for x in c[1:-1] if x is not None)
        seen: set[str] = set()
        for entry in entries:
            if entry.key in seen:
                ctx = self.ctx
                ctx.sink.report("TM0115", ctx.path, entry.key_span, key=entry.key)
            seen.add(entry.key)
        node = n.DataMap(entries=entries, span=_cover(c[0], c[-1]))
        return self._nest(node, *(e.value for e in entries))  # type: ignore[no-any-return]

    def data_list(self, c: list[Any]) -> n.Data:
        items = tuple(x for x in c[1:-1] if x is not None)
        node = n.DataList(items=items, span=_cover(c[0], c[-1]))
        return self._nest(node, *items)  # type: ignore[no-any-return]

    def pair(self, c: list[Any]) -> n.DataEntry:
        key, value = c
        return n.DataEntry(
            key=str(key.value), value=value, key_span=key.span, span=_cover(key, value)
        )

    def bare_key(self, c: list[Any]) -> n.DataEntry:
        key = c[0]
        return n.DataEntry(
            key=str(key.value),
            value=n.DataScalar(value=None, text="", span=key.span),
            key_span=key.span,
            span=key.span,
        )

    def quoted(self, c: list[Any]) -> n.Data:
        tok = c[0]
        return n.DataScalar(
            value=self._string(tok), quoted=True, text=str(tok), span=_tok_span(tok)
        )

    def plain(self, c: list[Any]) -> n.Data:
        tok = c[0]
        return n.DataScalar(value=core_scalar(str(tok)), text=str(tok), span=_tok_span(tok))


_TERMINAL_NAMES = {
    "NAME": "a name", "DOLLAR": "a `$` reference", "INT": "a number", "FLOAT": "a number",
    "DURATION": "a duration", "STRING": "a string", "LPAR": "`(`", "RPAR": "`)`",
    "LSQB": "`[`", "RSQB": "`]`", "LBRACE": "`{`", "RBRACE": "`}`", "COMMA": "`,`",
    "COLON": "`:`", "DOT": "`.`", "ASSIGN": "`=` or `:=`", "CMP_OP": "a comparison",
    "ADD_OP": "`+` or `-`", "MUL_OP": "`*`, `/`, `//` or `%`", "MINUS": "`-`", "NOT": "`not`",
    "TRUE": "`true`", "FALSE": "`false`", "NULL": "`null`", "IN": "`in`", "_IF": "`if`",
    "_ELSE": "`else`", "_OR": "`or`", "_AND": "`and`", "_WITH": "`with`", "_P": "`p`",
    "_EQ": "`=`", "LANGLE": "`<`", "RANGLE": "`>`", "QMARK": "`?`", "PLAIN": "a value",
    "$END": "the end of the value",
}


def _precise_expected(exc: UnexpectedToken) -> set[str] | frozenset[str]:
    """The terminals that would really be accepted (LALR's table lists extra ones after a
    default reduction); computed only on the error path."""
    try:
        accepted: set[str] = exc.interactive_parser.accepts()  # type: ignore[no-untyped-call]
    except Exception:  # the precise set is a refinement; the table's set is still right
        return exc.expected
    return accepted or exc.expected


_OPERATOR_TERMINALS = frozenset({"CMP_OP", "ADD_OP", "MUL_OP", "IN", "NOT", "_AND", "_OR", "_IF",
                                 "_ELSE", "_WITH", "DOT", "LSQB"})


def _describe_expected(expected: set[str] | frozenset[str]) -> str:
    if {"NAME", "INT", "STRING"} <= set(expected):
        rest = set(expected) - {"NAME", "INT", "FLOAT", "STRING", "DURATION", "DOLLAR", "LPAR",
                                "LSQB", "LBRACE", "MINUS", "NOT", "TRUE", "FALSE", "NULL"}
        return "an expression" + (" or " + _describe_expected(rest) if rest else "")
    wanted = set(expected)
    names = []
    if wanted & _OPERATOR_TERMINALS:
        wanted -= _OPERATOR_TERMINALS
        names.append("an operator")
    names += sorted({_TERMINAL_NAMES.get(t, t.lower()) for t in wanted})
    if not names:
        return "something else"
    if len(names) > 6:
        return ", ".join(names[:6]) + " or more"
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " or " + names[-1]


class _Parsers:
    """The two Lark instances (built once per process, from a cache file when possible)."""

    def __init__(self) -> None:
        self.ctx = _Context()
        self.expr_builder = _ExprBuilder(self.ctx)
        self.data_builder = _DataBuilder(self.ctx, self.expr_builder._string)
        plugins = {"LexerThread": _PlacedLexerThread}
        grammar_dir = resources.files("tracemind.grammar")
        cache_dir = _cache_dir()
        self.expr = Lark(
            grammar_dir.joinpath("expr.lark").read_text(encoding="utf-8"),
            parser="lalr",
            lexer="contextual",
            start=["expr_start", "stmt_start", "choose_start", "type_start", "for_start"],
            transformer=self.expr_builder,
            maybe_placeholders=True,
            cache=_cache_file(cache_dir, "expr"),
            _plugins=plugins,
        )
        self.data = Lark(
            grammar_dir.joinpath("data.lark").read_text(encoding="utf-8"),
            parser="lalr",
            lexer="contextual",
            transformer=self.data_builder,
            maybe_placeholders=True,
            cache=_cache_file(cache_dir, "data"),
            _plugins=plugins,
        )


def _cache_dir() -> Path | None:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = Path(base) / "tracemind"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return path if os.access(path, os.W_OK) else None


def _cache_file(cache_dir: Path | None, name: str) -> str | bool:
    if cache_dir is None:
        return False
    from tracemind import __version__

    return str(cache_dir / f"grammar-{name}-{__version__}.lark.cache")


_PARSERS: _Parsers | None = None


def _parsers() -> _Parsers:
    global _PARSERS
    if _PARSERS is None:
        _PARSERS = _Parsers()
    return _PARSERS


class ValueParser:
    """Parses values of one source file; reports into the sink given."""

    def __init__(self, source: SourceFile, sink: Sink, *, v0: bool) -> None:
        self.parsers = _parsers()
        self.source = source
        self.sink = sink
        self.v0 = v0
        self.fast = FastParser(source)

    def region(self, start: int, end: int) -> Region:
        line, column = self.source.position(start)
        return Region(self.source.text, start, end, line, column)

    def _run(self, lark: Lark, start: int, end: int, rule: str | None, what: str) -> Any:
        ctx = self.parsers.ctx
        ctx.sink = self.sink
        ctx.source = self.source
        ctx.v0 = self.v0
        ctx.depth.clear()
        try:
            if rule is None:
                return lark.parse(self.region(start, end))
            return lark.parse(self.region(start, end), start=rule)
        except _Abort:
            return None
        except _TooDeep as exc:
            self.sink.report(
                "TM0112",
                self.source.display_path,
                exc.span,
                limit=MAX_EXPR_DEPTH,
                help="split the expression into smaller steps",
            )
            return None
        except UnexpectedInput as exc:
            self._syntax_error(exc, start, end, what)
            return None
        finally:
            ctx.depth.clear()

    def _syntax_error(self, exc: UnexpectedInput, start: int, end: int, what: str) -> None:
        text = self.source.text
        if isinstance(exc, UnexpectedToken) and exc.token.type == "$END":
            at = end
            while at > start and text[at - 1] in " \t\r\n":
                at -= 1
            span = self.source.span(max(at - 1, start), at) if at > start else self.source.span(
                start, start
            )
            found = "the end of the value"
            expected = _precise_expected(exc)
        elif isinstance(exc, UnexpectedToken):
            tok = exc.token
            span = _tok_span(tok)
            found = f"`{tok}`"
            expected = _precise_expected(exc)
        elif isinstance(exc, UnexpectedCharacters):
            pos = exc.pos_in_stream or start
            span = self.source.span(pos, min(pos + 1, end))
            found = f"`{text[pos]}`" if pos < len(text) else "the end of the value"
            expected = exc.allowed or set()
        else:  # pragma: no cover - UnexpectedEOF does not occur with LALR
            span = self.source.span(start, end)
            found = "an error"
            expected = set()
        self.sink.report(
            "TM0101",
            self.source.display_path,
            span,
            message=f"invalid {what}: expected {_describe_expected(expected)}, found {found}",
        )

    def expr(self, start: int, end: int) -> n.Expr | None:
        simple = self.fast.parse(start, end)
        if simple is not None:
            return simple
        return self._run(self.parsers.expr, start, end, "expr_start", "expression")  # type: ignore[no-any-return]

    def statement(self, start: int, end: int) -> n.Assign | None:
        fast = self._fast_statement(start, end)
        if fast is not None:
            return fast
        return self._run(self.parsers.expr, start, end, "stmt_start", "statement")  # type: ignore[no-any-return]

    def _fast_statement(self, start: int, end: int) -> n.Assign | None:
        """``name = expr`` / ``name := expr`` with a fast-path expression, else None."""
        m = _ASSIGN_HEAD.match(self.source.text, start, end)
        if m is None:
            return None
        value = self.fast.parse(m.end(), end)
        if value is None:
            return None
        target_span = self.source.span(start, m.end(1))
        return n.Assign(target=m.group(1), value=value, walrus=m.group(2) == ":=",
                        target_span=target_span, span=target_span.cover(value.span))

    def choose_option(
        self, start: int, end: int
    ) -> tuple[tuple[str, Span, bool, n.Expr] | n.Expr, n.Expr | None] | None:
        return self._run(self.parsers.expr, start, end, "choose_start", "choose option")  # type: ignore[no-any-return]

    def type_with_default(self, start: int, end: int) -> tuple[n.TypeExpr, n.Expr | None] | None:
        return self._run(self.parsers.expr, start, end, "type_start", "type")  # type: ignore[no-any-return]

    def for_head(self, start: int, end: int) -> tuple[str, Span, n.Expr] | None:
        return self._run(self.parsers.expr, start, end, "for_start", "`for` head")  # type: ignore[no-any-return]

    def data(self, start: int, end: int) -> n.Data | None:
        text = self.source.text
        first = text[start] if start < end else ""
        if first in "[{":
            return self._run(self.parsers.data, start, end, None, "data value")  # type: ignore[no-any-return]
        span = self.source.span(start, end)
        raw = text[start:end]
        if first in "\"'":
            ctx = self.parsers.ctx
            ctx.sink = self.sink
            ctx.source = self.source
            if len(raw) < 2 or raw[-1] != first:
                self.sink.report(
                    "TM0101",
                    self.source.display_path,
                    span,
                    message="invalid data value: text after the closing quote",
                )
                return None
            tok = Token("STRING", raw, start_pos=start, line=span.line, column=span.column)
            try:
                value = self.expr_builder_string(tok)
            except _Abort:
                return None
            return n.DataScalar(value=value, quoted=True, text=raw, span=span)
        return n.DataScalar(value=core_scalar(raw), text=raw, span=span)

    def expr_builder_string(self, tok: Token) -> str:
        return self.parsers.expr_builder._string(tok)


def parse_type_text(text: str) -> n.TypeExpr:
    """Parse a type written as text (signature registries); raises ``ValueError`` if invalid."""
    source = SourceFile("<type>", text)
    sink = Sink()
    parser = ValueParser(source, sink, v0=False)
    result = parser._run(parser.parsers.expr, 0, len(text), "type_start", "type")
    if result is None or result[1] is not None:
        messages = "; ".join(d.message for d in sink.diagnostics()) or "a default is not allowed"
        raise ValueError(f"invalid type `{text}`: {messages}")
    type_expr: n.TypeExpr = result[0]
    return type_expr


def parse_document(source: SourceFile, sink: Sink, lang: str) -> n.Workflow | n.Policy | None:
    """Parse one document (``lang`` is ``"wdl"`` or ``"pdl"``), reporting every error found."""
    from .document import build_document

    return build_document(source, sink, lang)
