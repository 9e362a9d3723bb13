"""Pass ``fold-constants``: evaluate constant sub-expressions at compile time.

Input/output: IR expressions (and the flows and policies holding them).  Invariant: a fold
never moves a run-time error earlier: an operation that would raise (division by zero, a
missing key, an index out of range, a builtin rejecting its argument) is left for run time,
where its error gets its source location.  Non-finite float results are not folded either.
``and``/``or`` fold only through their left operand, as evaluation would short-circuit.
"""

from __future__ import annotations

import importlib
import math
import operator
from collections.abc import Callable
from typing import Any

from .. import ir
from ..nodes import BinOp, UnaryOp
from .walk import map_flow_exprs, map_policy_exprs

_ARITH: dict[BinOp, Callable[[Any, Any], Any]] = {
    BinOp.ADD: operator.add,
    BinOp.SUB: operator.sub,
    BinOp.MUL: operator.mul,
    BinOp.DIV: operator.truediv,
    BinOp.FLOORDIV: operator.floordiv,
    BinOp.MOD: operator.mod,
    BinOp.EQ: operator.eq,
    BinOp.NE: operator.ne,
    BinOp.LT: operator.lt,
    BinOp.LE: operator.le,
    BinOp.GT: operator.gt,
    BinOp.GE: operator.ge,
    BinOp.IN: lambda a, b: a in b,
    BinOp.NOT_IN: lambda a, b: a not in b,
}

_FOLDABLE_BUILTINS = frozenset(
    {"len", "lower", "upper", "abs", "min", "max", "str", "int", "float", "round", "sum", "any",
     "all", "sorted", "contains", "clamp", "first_numeric"}
)


def _finite(value: object) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    return True


def _const(value: object, like: ir.Expr) -> ir.Expr:
    if not _finite(value):
        return like
    return ir.Const(value=value, type=like.type, span=like.span)  # type: ignore[arg-type]


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def fold_expr(expr: ir.Expr) -> ir.Expr:
    """``expr`` with its constant parts evaluated."""
    match expr:
        case ir.Unary(op=op, operand=operand):
            inner = fold_expr(operand)
            if isinstance(inner, ir.Const):
                if op is UnaryOp.NOT and isinstance(inner.value, bool):
                    return _const(not inner.value, expr)
                if op is UnaryOp.NEG and _is_number(inner.value):
                    return _const(-inner.value, expr)  # type: ignore[operator]
            return ir.Unary(op=op, operand=inner, type=expr.type, span=expr.span)
        case ir.Binary(op=BinOp.AND | BinOp.OR as op, left=left, right=right):
            lhs, rhs = fold_expr(left), fold_expr(right)
            if isinstance(lhs, ir.Const) and isinstance(lhs.value, bool):
                if lhs.value is (op is BinOp.OR):
                    return _const(lhs.value, expr)
                return rhs
            return ir.Binary(op=op, left=lhs, right=rhs, type=expr.type, span=expr.span)
        case ir.Binary(op=op, left=left, right=right):
            lhs, rhs = fold_expr(left), fold_expr(right)
            if isinstance(lhs, ir.Const) and isinstance(rhs, ir.Const):
                try:
                    return _const(_ARITH[op](lhs.value, rhs.value), expr)
                except (ArithmeticError, TypeError, ValueError):
                    pass
            return ir.Binary(op=op, left=lhs, right=rhs, type=expr.type, span=expr.span)
        case ir.Cond(cond=cond, then=then, otherwise=otherwise):
            c = fold_expr(cond)
            if isinstance(c, ir.Const) and isinstance(c.value, bool):
                return fold_expr(then if c.value else otherwise)
            return ir.Cond(cond=c, then=fold_expr(then), otherwise=fold_expr(otherwise),
                           type=expr.type, span=expr.span)
        case ir.ListExpr(items=items):
            folded = tuple(fold_expr(i) for i in items)
            if all(isinstance(i, ir.Const) for i in folded):
                return _const([i.value for i in folded if isinstance(i, ir.Const)], expr)
            return ir.ListExpr(items=folded, type=expr.type, span=expr.span)
        case ir.RecordExpr(entries=entries):
            folded_entries = tuple((k, fold_expr(v)) for k, v in entries)
            if all(isinstance(v, ir.Const) for _, v in folded_entries):
                return _const({k: v.value for k, v in folded_entries
                               if isinstance(v, ir.Const)}, expr)
            return ir.RecordExpr(entries=folded_entries, type=expr.type, span=expr.span)
        case ir.Field(obj=obj, name=name):
            o = fold_expr(obj)
            if isinstance(o, ir.Const) and isinstance(o.value, dict) and name in o.value:
                return _const(o.value[name], expr)
            return ir.Field(obj=o, name=name, type=expr.type, span=expr.span)
        case ir.Index(obj=obj, index=index):
            o, i = fold_expr(obj), fold_expr(index)
            if isinstance(o, ir.Const) and isinstance(i, ir.Const):
                try:
                    if isinstance(o.value, list) and isinstance(i.value, int) and not isinstance(
                        i.value, bool
                    ) and 0 <= i.value < len(o.value):
                        return _const(o.value[i.value], expr)
                    if (isinstance(o.value, dict) and isinstance(i.value, str)
                            and i.value in o.value):
                        return _const(o.value[i.value], expr)
                except (TypeError, IndexError, KeyError):
                    pass
            return ir.Index(obj=o, index=i, type=expr.type, span=expr.span)
        case ir.Coalesce(args=args):
            folded = tuple(fold_expr(a) for a in args)
            kept = tuple(a for a in folded if not (isinstance(a, ir.Const) and a.value is None))
            if kept and isinstance(kept[0], ir.Const):
                return kept[0]
            if not kept:
                return _const(None, expr)
            return ir.Coalesce(args=kept, type=expr.type, span=expr.span)
        case ir.Call(func=func, args=args):
            folded = tuple(fold_expr(a) for a in args)
            if func in _FOLDABLE_BUILTINS and all(isinstance(a, ir.Const) for a in folded):
                value = _call_builtin(func, [a.value for a in folded if isinstance(a, ir.Const)])
                if value is not _NO_VALUE:
                    return _const(value, expr)
            return ir.Call(func=func, args=folded, type=expr.type, span=expr.span)
    return expr


_NO_VALUE = object()


def _call_builtin(func: str, args: list[object]) -> object:
    try:
        builtins_impl = importlib.import_module("tracemind.stdlib.builtins_impl")
    except ImportError:  # pragma: no cover - the stdlib ships with the compiler
        return _NO_VALUE
    impl = getattr(builtins_impl, f"b_{func}", None)
    if impl is None:
        return _NO_VALUE
    try:
        return impl(*args)
    except Exception:  # a builtin rejecting its argument is a run-time error, not a fold
        return _NO_VALUE


def fold_flow(flow: ir.Flow) -> ir.Flow:
    return map_flow_exprs(flow, fold_expr)


def fold_policy(policy: ir.PolicyIR) -> ir.PolicyIR:
    return map_policy_exprs(policy, fold_expr)
