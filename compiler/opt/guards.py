"""Pass ``simplify-guards``: canonical, cheaper boolean conditions.

Rewrites ``not not x`` to ``x``, ``x == true`` and ``x != false`` to ``x``, ``x == false`` and
``x != true`` to ``not x``, and ``not (a == b)`` / ``not (a != b)`` to the opposite comparison.
Every rewrite evaluates the same operands in the same order, so no run-time error moves.
"""

from __future__ import annotations

from .. import ir
from .. import types as t
from ..nodes import BinOp, UnaryOp
from .walk import map_flow_exprs, map_policy_exprs


def _is_bool_const(expr: ir.Expr, value: bool) -> bool:
    return isinstance(expr, ir.Const) and expr.value is value


def simplify(expr: ir.Expr) -> ir.Expr:
    match expr:
        case ir.Unary(op=UnaryOp.NOT, operand=operand):
            inner = simplify(operand)
            if isinstance(inner, ir.Unary) and inner.op is UnaryOp.NOT:
                return inner.operand
            if isinstance(inner, ir.Binary) and inner.op in (BinOp.EQ, BinOp.NE):
                flipped = BinOp.NE if inner.op is BinOp.EQ else BinOp.EQ
                return ir.Binary(op=flipped, left=inner.left, right=inner.right,
                                 type=expr.type, span=expr.span)
            return ir.Unary(op=UnaryOp.NOT, operand=inner, type=expr.type, span=expr.span)
        case ir.Binary(op=BinOp.EQ | BinOp.NE as op, left=left, right=right):
            lhs, rhs = simplify(left), simplify(right)
            if lhs.type == t.BOOL and isinstance(rhs, ir.Const) and isinstance(rhs.value, bool):
                keep = rhs.value is (op is BinOp.EQ)
                return lhs if keep else simplify(
                    ir.Unary(op=UnaryOp.NOT, operand=lhs, type=t.BOOL, span=expr.span))
            return ir.Binary(op=op, left=lhs, right=rhs, type=expr.type, span=expr.span)
        case ir.Binary(op=op, left=left, right=right):
            return ir.Binary(op=op, left=simplify(left), right=simplify(right), type=expr.type,
                             span=expr.span)
        case ir.Cond(cond=cond, then=then, otherwise=otherwise):
            return ir.Cond(cond=simplify(cond), then=simplify(then),
                           otherwise=simplify(otherwise), type=expr.type, span=expr.span)
    return expr


def simplify_flow(flow: ir.Flow) -> ir.Flow:
    return map_flow_exprs(flow, simplify)


def simplify_policy(policy: ir.PolicyIR) -> ir.PolicyIR:
    return map_policy_exprs(policy, simplify)
