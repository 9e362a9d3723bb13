"""A fast path for the most common expression shapes, without a Lark parse.

Input: the file text and a value's offsets.  Output: the same AST (nodes and spans) the Lark
grammar builds, or None when the value is outside the subset, in which case the caller parses
it with Lark (which also reports any error: the fast path never reports).

The subset: literals (numbers, durations, strings without escapes), names and ``$`` paths with
``.field`` parts, calls ``name(args)``, list literals, and binary operators between them with
the precedence of language.md section 2 (comparisons do not chain).  That covers most values
in real documents (``$step.read.values``, ``coalesce($step.a.x, 0)``, ``$x.y >= 3 and z``).

Invariant: on every input where it answers, it builds a tree equal to Lark's, with equal
spans; ``tests/parser/test_fast_path.py`` checks that property on generated inputs.  Nesting
is capped well below the parser's limit, so deep inputs go to Lark, which reports TM0112.
"""

from __future__ import annotations

import re

from . import nodes as n
from .source import SourceFile

SIMPLE = re.compile(
    r"(?P<duration>[0-9]+(?:\.[0-9]+)?(?:ms|s|m|h)(?![A-Za-z0-9_]))"
    r"|(?P<float>[0-9]+\.[0-9]+(?:[eE][-+]?[0-9]+)?|[0-9]+[eE][-+]?[0-9]+)(?![A-Za-z0-9_.])"
    r"|(?P<int>[0-9]+)(?![A-Za-z0-9_.])"
    r"|(?P<string>\"[^\"\\\n]*\"|'[^'\\\n]*')"
    r"|(?P<path>\$?[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)"
)
_OP = re.compile(r"//|==|!=|<=|>=|[-+*/%<>]|(?:and|or)(?![A-Za-z0-9_])")
_KEYWORDS = frozenset({"and", "or", "not", "in", "if", "else", "true", "false", "null", "with",
                       "True", "False", "None"})
_CMP = 5
_PREC = {
    n.BinOp.OR: 2, n.BinOp.AND: 3,
    n.BinOp.EQ: _CMP, n.BinOp.NE: _CMP, n.BinOp.LT: _CMP, n.BinOp.LE: _CMP,
    n.BinOp.GT: _CMP, n.BinOp.GE: _CMP,
    n.BinOp.ADD: 6, n.BinOp.SUB: 6, n.BinOp.MUL: 7, n.BinOp.DIV: 7, n.BinOp.FLOORDIV: 7,
    n.BinOp.MOD: 7,
}
_BINOPS = {op.value: op for op in n.BinOp}
_UNITS_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000}
MAX_DEPTH = 16
"""Bracket nesting the fast path accepts; deeper values go to Lark."""
MAX_OPS = 64
"""Binary operators per expression level the fast path accepts."""
MAX_TREE_DEPTH = 50
"""Tree depth the fast path builds; deeper values go to Lark, which applies the real limit."""


class _Decline(Exception):
    """The value is outside the subset."""


def _duration_ms(text: str) -> int | float:
    unit = "ms" if text.endswith("ms") else text[-1]
    number = text[: -len(unit)]
    value = (float(number) if "." in number else int(number)) * _UNITS_MS[unit]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class FastParser:
    """Parses one value in place; :meth:`parse` returns the node or None."""

    __slots__ = ("depth", "end", "pos", "source", "text")

    def __init__(self, source: SourceFile) -> None:
        self.source = source
        self.text = source.text
        self.pos = 0
        self.end = 0
        self.depth: dict[int, int] = {}

    def _nested(self, node: n.Expr, *children: n.Expr) -> n.Expr:
        """Record ``node``'s depth (as the Lark builder counts it); decline past the cap."""
        table = self.depth
        depth = 1 + max((table.get(id(c), 0) for c in children), default=0)
        if depth > MAX_TREE_DEPTH:
            raise _Decline
        table[id(node)] = depth
        return node

    def parse(self, start: int, end: int) -> n.Expr | None:
        m = SIMPLE.match(self.text, start, end)
        if m is not None and m.end() == end:
            return self._atom(m, start)
        self.pos = start
        self.end = end
        self.depth.clear()
        try:
            node = self._expr(0)
        except _Decline:
            return None
        finally:
            self.depth.clear()
        self._skip()
        return node if self.pos == end else None

    def _skip(self) -> None:
        text, pos, end = self.text, self.pos, self.end
        while pos < end and text[pos] == " ":
            pos += 1
        self.pos = pos

    def _expr(self, depth: int) -> n.Expr:
        """Operators by precedence climbing over operands."""
        if depth > MAX_DEPTH:
            raise _Decline
        values = [self._operand(depth)]
        pending: list[tuple[n.BinOp, int, int]] = []
        count = 0
        source = self.source

        def reduce() -> None:
            op, os_, oe = pending.pop()
            right = values.pop()
            left = values.pop()
            values.append(self._nested(
                n.Binary(op=op, left=left, right=right, op_span=source.span(os_, oe),
                         span=left.span.cover(right.span)),
                left, right))

        while True:
            self._skip()
            m = _OP.match(self.text, self.pos, self.end)
            if m is None:
                break
            op = _BINOPS[m.group(0)]
            count += 1
            if count > MAX_OPS:
                raise _Decline
            prec = _PREC[op]
            while pending and _PREC[pending[-1][0]] >= prec:
                if _PREC[pending[-1][0]] == prec == _CMP:
                    raise _Decline
                reduce()
            pending.append((op, m.start(), m.end()))
            self.pos = m.end()
            values.append(self._operand(depth))
        while pending:
            reduce()
        return values[0]

    def _operand(self, depth: int) -> n.Expr:
        self._skip()
        text, pos = self.text, self.pos
        if pos >= self.end:
            raise _Decline
        if text[pos] == "[":
            return self._list(depth)
        m = SIMPLE.match(text, pos, self.end)
        if m is None:
            raise _Decline
        self.pos = m.end()
        if m.lastgroup == "path" and "." not in m.group(0) and m.group(0)[0] != "$":
            self._skip()
            if self.pos < self.end and text[self.pos] == "(":
                return self._call(m, depth)
            self.pos = m.end()
        node = self._atom(m, pos)
        if node is None:
            raise _Decline
        self._skip()
        if self.pos < self.end and text[self.pos] in "[(.":
            raise _Decline  # indexing or postfix forms: Lark handles them
        self.pos = m.end()
        return node

    def _items(self, close: str, depth: int) -> tuple[list[n.Expr], int]:
        """Comma-separated expressions up to ``close``; returns them and the closer's offset."""
        items: list[n.Expr] = []
        text = self.text
        self.pos += 1
        self._skip()
        if self.pos < self.end and text[self.pos] == close:
            self.pos += 1
            return items, self.pos - 1
        while True:
            items.append(self._expr(depth + 1))
            self._skip()
            if self.pos >= self.end:
                raise _Decline
            ch = text[self.pos]
            if ch == ",":
                self.pos += 1
                self._skip()
                if self.pos < self.end and text[self.pos] == close:
                    self.pos += 1
                    return items, self.pos - 1
                continue
            if ch == close:
                self.pos += 1
                return items, self.pos - 1
            raise _Decline

    def _call(self, name: re.Match[str], depth: int) -> n.Expr:
        func = name.group(0)
        if func in _KEYWORDS:
            raise _Decline
        args, close = self._items(")", depth)
        source = self.source
        node = n.Call(func=func, args=tuple(args), func_span=source.span(name.start(), name.end()),
                      span=source.span(name.start(), close + 1))
        return self._nested(node, *args)

    def _list(self, depth: int) -> n.Expr:
        start = self.pos
        items, close = self._items("]", depth)
        node = n.ListExpr(items=tuple(items), span=self.source.span(start, close + 1))
        return self._nested(node, *items)

    def _atom(self, m: re.Match[str], start: int) -> n.Expr | None:
        kind = m.lastgroup
        text = m.group(0)
        source = self.source
        if kind == "path":
            parts = text.split(".")
            head = parts[0]
            if head in _KEYWORDS or (head[0] == "$" and head[1:] not in ("input", "step")):
                return None
            node: n.Expr
            pos = start + len(head)
            if head[0] == "$":
                node = n.Ref(root=head[1:], span=source.span(start, pos))
            else:
                node = n.Name(id=head, span=source.span(start, pos))
            for part in parts[1:]:
                name_span = source.span(pos + 1, pos + 1 + len(part))
                pos += 1 + len(part)
                node = self._nested(n.Attr(obj=node, name=part, name_span=name_span,
                                           span=source.span(start, pos)), node)
            return node
        span = source.span(start, m.end())
        if kind == "string":
            return n.Literal(kind=n.LitKind.STRING, value=text[1:-1], text=text, span=span)
        if kind == "int":
            return n.Literal(kind=n.LitKind.INT, value=int(text), text=text, span=span)
        if kind == "float":
            return n.Literal(kind=n.LitKind.FLOAT, value=float(text), text=text, span=span)
        return n.Literal(kind=n.LitKind.DURATION, value=_duration_ms(text), text=text, span=span)
