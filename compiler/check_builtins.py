"""Typing rules of the expression builtins (``stdlib/builtins.py`` declares names and arities).

Role: the result type of a builtin call given its argument types, reporting arguments that do
not fit (TM0302).  Several builtins are generic (``random(list<T>) -> T``, ``sorted``, ``min``),
so the rules are code, one small function per builtin, rather than signature strings.

Input: the checker (for reporting), the call node and its argument types, already checked for
arity.  ``coalesce`` is handled by the checker itself (it changes how arguments are typed).
Output: the call's type.  Invariant: an argument of type ``any`` is accepted everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from . import nodes as n
from . import types as t

if TYPE_CHECKING:
    from .check_expr import ExprChecker

_NUMBER = "a number (int or float)"
_ORDERED = "numbers, strings or durations"


class _Call:
    """One call being typed: reports a misfit argument once and gives ``any`` back."""

    def __init__(self, checker: ExprChecker, node: n.Call, types: list[t.Type]) -> None:
        self.checker = checker
        self.node = node
        self.types = types

    def bad(self, index: int, want: str) -> t.Type:
        arg = self.node.args[index]
        self.checker.sink.report(
            "TM0302",
            self.checker.source.display_path,
            arg.span,
            label=f"argument {index + 1} of `{self.node.func}`",
            want=want,
            got=t.render(self.types[index]),
        )
        return t.ANY

    def any_arg(self) -> bool:
        return t.ANY in self.types

    def list_item(self, index: int, want: str, accept: Callable[[t.Type], bool]) -> t.Type:
        """The item type of a list argument whose items ``accept`` allows."""
        typ = self.types[index]
        if typ in (t.ANY, t.NEVER):
            return typ
        if isinstance(typ, t.ListOf) and (typ.item in (t.ANY, t.NEVER) or accept(typ.item)):
            return typ.item
        return self.bad(index, want)


def _numeric(typ: t.Type) -> bool:
    return typ in t.NUMERIC


def _ordered(typ: t.Type) -> bool:
    return typ in t.ORDERED


def _first_numeric(c: _Call) -> t.Type:
    typ = c.types[0]
    if typ in (t.ANY, t.NEVER) or isinstance(typ, t.MapOf | t.ListOf | t.Record):
        return t.FLOAT
    return c.bad(0, "map<any> or list<any>")


def _random(c: _Call) -> t.Type:
    if not c.types:
        return t.FLOAT
    item = c.list_item(0, "a list to draw from", lambda _: True)
    return t.ANY if item == t.NEVER else item


def _min_max(c: _Call) -> t.Type:
    if len(c.types) == 1:
        return c.list_item(0, f"a list of {_ORDERED}", _ordered)
    result: t.Type = t.NEVER
    for index, typ in enumerate(c.types):
        joined = t.join(result, typ)
        if joined is None or not (joined in (t.ANY, t.NEVER) or _ordered(joined)):
            return c.bad(index, f"{_ORDERED} of one kind")
        result = joined
    return result


def _abs(c: _Call) -> t.Type:
    typ = c.types[0]
    if typ in (t.ANY, t.NEVER, t.DURATION) or _numeric(typ):
        return typ
    return c.bad(0, _NUMBER)


def _convert(target: t.Type) -> Callable[[_Call], t.Type]:
    def rule(c: _Call) -> t.Type:
        if c.types[0] in (t.ANY, t.NEVER, t.INT, t.FLOAT, t.STRING, t.BOOL):
            return target
        return c.bad(0, "int, float, string or bool")

    return rule


def _len(c: _Call) -> t.Type:
    typ = c.types[0]
    if typ in (t.ANY, t.NEVER, t.STRING) or isinstance(typ, t.ListOf | t.MapOf | t.Record):
        return t.INT
    return c.bad(0, "a string, list or map")


def _round(c: _Call) -> t.Type:
    if not (c.types[0] in (t.ANY, t.NEVER) or _numeric(c.types[0])):
        return c.bad(0, _NUMBER)
    if len(c.types) == 2:
        if not t.assignable(c.types[1], t.INT):
            return c.bad(1, "int (a number of digits)")
        return t.FLOAT
    return t.INT


def _sum(c: _Call) -> t.Type:
    item = c.list_item(
        0, "a list of numbers or durations", lambda i: _numeric(i) or i == t.DURATION
    )
    return t.INT if item == t.NEVER else item


def _any_all(c: _Call) -> t.Type:
    c.list_item(0, "list<bool>", lambda i: i == t.BOOL)
    return t.BOOL


def _sorted(c: _Call) -> t.Type:
    item = c.list_item(0, f"a list of {_ORDERED}", _ordered)
    return t.ANY if c.types[0] == t.ANY else t.ListOf(item)


def _contains(c: _Call) -> t.Type:
    container, item = c.types
    if t.ANY in (container, item) or container == t.NEVER:
        return t.BOOL
    match container:
        case t.ListOf(item=member):
            if t.join(member, item) is None:
                c.bad(1, f"an item of type {t.render(member)}")
        case t.MapOf() | t.Record() | t.Prim(name="string"):
            if not t.assignable(item, t.STRING):
                c.bad(1, "string")
        case _:
            c.bad(0, "a list, map or string")
    return t.BOOL


def _string_case(c: _Call) -> t.Type:
    if not t.assignable(c.types[0], t.STRING):
        return c.bad(0, "string")
    return t.STRING


def _clamp(c: _Call) -> t.Type:
    result: t.Type = t.NEVER
    for index, typ in enumerate(c.types):
        if not (typ in (t.ANY, t.NEVER) or _numeric(typ)):
            return c.bad(index, _NUMBER)
        result = t.join(result, typ) or t.ANY
    return result


_RULES: Final[dict[str, Callable[[_Call], t.Type]]] = {
    "first_numeric": _first_numeric,
    "random": _random,
    "min": _min_max,
    "max": _min_max,
    "abs": _abs,
    "float": _convert(t.FLOAT),
    "int": _convert(t.INT),
    "str": lambda c: t.STRING,
    "len": _len,
    "round": _round,
    "sum": _sum,
    "any": _any_all,
    "all": _any_all,
    "sorted": _sorted,
    "contains": _contains,
    "lower": _string_case,
    "upper": _string_case,
    "clamp": _clamp,
}


def type_builtin(checker: ExprChecker, node: n.Call, types: list[t.Type]) -> t.Type:
    """The type of a call to builtin ``node.func`` (known, arity already checked)."""
    return _RULES[node.func](_Call(checker, node, types))
