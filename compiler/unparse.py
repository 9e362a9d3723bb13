"""Canonical source text of expressions, types and data literals.

Input: AST nodes.  Output: the one canonical spelling of each (single spaces around binary
operators, ``", "`` between items, double-quoted strings with JSON escapes, parentheses only
where precedence needs them).  Parsing the output gives back an equal node: ``tmc fmt`` and the
round-trip property tests rely on it.

The printer works with an explicit stack, so its depth is not bounded by Python's recursion
limit (the parser bounds nesting anyway).
"""

from __future__ import annotations

import json
import re

from . import nodes as n

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_KEYWORDS = frozenset({"and", "or", "not", "in", "if", "else", "true", "false", "null", "with"})

# Precedence levels (language.md section 2): higher binds tighter.
COND, OR, AND, NOT, CMP, SUM, TERM, UNARY, POSTFIX, ATOM = range(1, 11)

_BINARY_LEVEL = {
    n.BinOp.OR: OR,
    n.BinOp.AND: AND,
    n.BinOp.ADD: SUM,
    n.BinOp.SUB: SUM,
    n.BinOp.MUL: TERM,
    n.BinOp.DIV: TERM,
    n.BinOp.FLOORDIV: TERM,
    n.BinOp.MOD: TERM,
}


def quote(value: str) -> str:
    """A double-quoted string literal with JSON escapes."""
    return json.dumps(value, ensure_ascii=False)


def level(expr: n.Expr) -> int:
    match expr:
        case n.Conditional():
            return COND
        case n.Binary(op=op):
            return _BINARY_LEVEL.get(op, CMP)
        case n.Unary(op=n.UnaryOp.NOT):
            return NOT
        case n.Unary():
            return UNARY
        case n.Literal(kind=n.LitKind.INT | n.LitKind.FLOAT, text=text) if text.startswith("-"):
            return UNARY
        case n.Attr() | n.Index() | n.Call():
            return POSTFIX
        case _:
            return ATOM


def map_key(key: str) -> str:
    return key if _IDENT.fullmatch(key) and key not in _KEYWORDS else quote(key)


def _literal(lit: n.Literal) -> str:
    match lit.kind:
        case n.LitKind.STRING:
            assert isinstance(lit.value, str)
            return quote(lit.value)
        case n.LitKind.BOOL:
            return "true" if lit.value else "false"
        case n.LitKind.NULL:
            return "null"
        case _:
            if lit.text:
                return lit.text
            return repr(lit.value)


# A work item is either a string to emit or a (node, minimum level) to expand.
_Work = str | tuple[n.Expr, int]


def expr(node: n.Expr) -> str:
    """Canonical text of ``node``."""
    out: list[str] = []
    stack: list[_Work] = [(node, 0)]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
            continue
        e, need = item
        parts = _expand(e)
        if level(e) < need:
            parts = ["(", *parts, ")"]
        stack.extend(reversed(parts))
    return "".join(out)


def _expand(e: n.Expr) -> list[_Work]:
    match e:
        case n.Literal():
            return [_literal(e)]
        case n.PlainString(value=value):
            return [value]
        case n.Name(id=name):
            return [name]
        case n.Ref(root=root):
            return ["$" + root]
        case n.Attr(obj=obj, name=name):
            return [(obj, POSTFIX), "." + name]
        case n.Index(obj=obj, index=index):
            return [(obj, POSTFIX), "[", (index, 0), "]"]
        case n.Call(func=func, args=args):
            return [func, "(", *_join(args), ")"]
        case n.Unary(op=n.UnaryOp.NOT, operand=operand):
            return ["not ", (operand, NOT)]
        case n.Unary(operand=operand):
            return ["-", (operand, UNARY)]
        case n.Binary(op=op, left=left, right=right):
            lvl = _BINARY_LEVEL.get(op, CMP)
            if lvl == CMP:
                return [(left, SUM), f" {op.value} ", (right, SUM)]
            return [(left, lvl), f" {op.value} ", (right, lvl + 1)]
        case n.Conditional(cond=cond, then=then, otherwise=otherwise):
            return [(then, OR), " if ", (cond, OR), " else ", (otherwise, COND)]
        case n.ListExpr(items=items):
            return ["[", *_join(items), "]"]
        case n.MapExpr(entries=entries):
            parts: list[_Work] = ["{"]
            for i, entry in enumerate(entries):
                if i:
                    parts.append(", ")
                parts.append(map_key(entry.key) + ": ")
                parts.append((entry.value, 0))
            parts.append("}")
            return parts
        case _:  # pragma: no cover - every Expr subclass is matched above
            raise TypeError(f"cannot unparse {type(e).__name__}")


def _join(items: tuple[n.Expr, ...]) -> list[_Work]:
    parts: list[_Work] = []
    for i, item in enumerate(items):
        if i:
            parts.append(", ")
        parts.append((item, 0))
    return parts


def type_expr(t: n.TypeExpr) -> str:
    """Canonical text of a type."""
    out: list[str] = []
    stack: list[str | n.TypeExpr] = [t]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
            continue
        parts: list[str | n.TypeExpr]
        match item:
            case n.NamedType(name=name):
                parts = [name]
            case n.ListType(item=inner):
                parts = ["list<", inner, ">"]
            case n.MapType(value=inner):
                parts = ["map<", inner, ">"]
            case n.OptionalType(inner=inner):
                parts = [inner, "?"]
            case n.RecordType(fields=fields):
                parts = ["{"]
                for i, f in enumerate(fields):
                    if i:
                        parts.append(", ")
                    parts.extend([f.name + ": ", f.type])
                parts.append("}")
            case _:  # pragma: no cover
                raise TypeError(f"cannot unparse {type(item).__name__}")
        stack.extend(reversed(parts))
    return "".join(out)


_PLAIN_SAFE = re.compile(
    r"[^\s,\[\]{}#'\":](?:[^\s,\[\]{}:]|:(?![\s,\[\]{}])|[ ](?=[^\s,\[\]{}:#]))*"
)


def data_key(key: str) -> str:
    """A data mapping key: plain where it reads back as the same string, else quoted."""
    from .parse import core_scalar

    if _PLAIN_SAFE.fullmatch(key) and str(core_scalar(key)) == key:
        return key
    return quote(key)


def data(d: n.Data) -> str:
    """Flow-style text of a data literal; scalars keep their source spelling where flow-safe."""
    out: list[str] = []
    stack: list[str | n.Data] = [d]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
            continue
        parts: list[str | n.Data]
        match item:
            case n.DataScalar():
                parts = [flow_scalar(item) if item is not d else data_scalar(item)]
            case n.DataList(items=items):
                parts = ["["]
                for i, x in enumerate(items):
                    if i:
                        parts.append(", ")
                    parts.append(x)
                parts.append("]")
            case n.DataMap(entries=entries):
                parts = ["{"]
                for i, entry in enumerate(entries):
                    if i:
                        parts.append(", ")
                    parts.extend([data_key(entry.key) + ": ", entry.value])
                parts.append("}")
            case _:  # pragma: no cover
                raise TypeError(f"cannot unparse {type(item).__name__}")
        stack.extend(reversed(parts))
    return "".join(out)


def flow_scalar(s: n.DataScalar) -> str:
    """A scalar inside ``{}``/``[]``: its source spelling unless that would not read back."""
    text = data_scalar(s)
    if s.quoted or not isinstance(s.value, str) or _PLAIN_SAFE.fullmatch(text):
        return text
    return quote(s.value)


def data_scalar(s: n.DataScalar) -> str:
    """A scalar as written, or a canonical spelling when it has no source text."""
    if s.quoted and isinstance(s.value, str):
        return quote(s.value)
    if s.text:
        return s.text
    if s.value is None:
        return "null"
    if isinstance(s.value, bool):
        return "true" if s.value else "false"
    if isinstance(s.value, str):
        return data_key(s.value) if s.value else '""'
    return repr(s.value)
