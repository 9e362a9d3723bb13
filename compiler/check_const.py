"""Literal-only constant evaluation, for the checker's constant-condition warning (TM0603).

Role: decide whether an expression folds to a constant using literals only (no names, no
references, no calls), so ``when 1 > 2:`` and ``if true or x:`` are reported while
``if epsilon > 0.5:`` is not (parameters can be tuned without recompiling the policy).

Input: an expression node.  Output: ``(True, value)`` or ``(False, None)``.

Invariants: folding never raises; an operation that would fail at run time (division by zero,
mixing types) is "not constant", so the error keeps its run-time source location.  Short-circuit
``and``/``or`` fold when the deciding operand is constant.
"""

from __future__ import annotations

from collections.abc import Mapping

from . import nodes as n

_NOT_CONSTANT = (False, None)


def fold(node: n.Expr, env: Mapping[str, object] | None = None) -> tuple[bool, object]:
    """``(True, value)`` when ``node`` folds to a constant using literals only (and the names
    in ``env``: PDL parameters, which are data fixed at compile time)."""
    match node:
        case n.Name(id=name) if env is not None and name in env:
            return True, env[name]
        case n.Literal(kind=n.LitKind.DURATION):
            return _NOT_CONSTANT
        case n.Literal(value=literal):
            return True, literal
        case n.Unary(op=n.UnaryOp.NOT, operand=operand):
            known, value = fold(operand, env)
            return (True, not value) if known and isinstance(value, bool) else _NOT_CONSTANT
        case n.Unary(op=n.UnaryOp.NEG, operand=operand):
            known, value = fold(operand, env)
            return (True, -value) if known and _is_number(value) else _NOT_CONSTANT  # type: ignore[operator]
        case n.Binary(op=n.BinOp.AND | n.BinOp.OR as op, left=left, right=right):
            known, value = fold(left, env)
            if known and isinstance(value, bool):
                if value is (op is n.BinOp.OR):
                    return True, value
                return _bool_or_unknown(fold(right, env))
            known_r, value_r = fold(right, env)
            if known_r and isinstance(value_r, bool) and value_r is (op is n.BinOp.OR):
                return True, value_r
            return _NOT_CONSTANT
        case n.Binary(op=op, left=left, right=right):
            known_l, lv = fold(left, env)
            known_r, rv = fold(right, env)
            if not (known_l and known_r):
                return _NOT_CONSTANT
            return _fold_binary(op, lv, rv)
        case n.Conditional(cond=cond, then=then, otherwise=otherwise):
            known, value = fold(cond, env)
            if known and isinstance(value, bool):
                return fold(then if value else otherwise, env)
            return _NOT_CONSTANT
        case n.ListExpr(items=items):
            values = []
            for item in items:
                known, value = fold(item, env)
                if not known:
                    return _NOT_CONSTANT
                values.append(value)
            return True, values
    return _NOT_CONSTANT


def _bool_or_unknown(result: tuple[bool, object]) -> tuple[bool, object]:
    return result if result[0] and isinstance(result[1], bool) else _NOT_CONSTANT


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _fold_binary(op: n.BinOp, lv: object, rv: object) -> tuple[bool, object]:
    numbers = _is_number(lv) and _is_number(rv)
    strings = isinstance(lv, str) and isinstance(rv, str)
    a: float = lv if numbers else 0  # type: ignore[assignment]
    b: float = rv if numbers else 0  # type: ignore[assignment]
    match op:
        case n.BinOp.EQ | n.BinOp.NE:
            if type(lv) is not type(rv) and not numbers:
                return _NOT_CONSTANT
            return True, (lv == rv) is (op is n.BinOp.EQ)
        case n.BinOp.LT | n.BinOp.LE | n.BinOp.GT | n.BinOp.GE if numbers or strings:
            x, y = (a, b) if numbers else (lv, rv)
            table = {
                n.BinOp.LT: x < y,  # type: ignore[operator]
                n.BinOp.LE: x <= y,  # type: ignore[operator]
                n.BinOp.GT: x > y,  # type: ignore[operator]
                n.BinOp.GE: x >= y,  # type: ignore[operator]
            }
            return True, table[op]
        case n.BinOp.IN | n.BinOp.NOT_IN:
            if isinstance(rv, list) or strings:
                if isinstance(rv, list) and any(type(i) is not type(lv) for i in rv):
                    return _NOT_CONSTANT
                return True, (lv in rv) is (op is n.BinOp.IN)  # type: ignore[operator]
        case n.BinOp.ADD if numbers:
            return True, a + b
        case n.BinOp.ADD if strings:
            return True, str(lv) + str(rv)
        case n.BinOp.SUB if numbers:
            return True, a - b
        case n.BinOp.MUL if numbers:
            return True, a * b
    return _NOT_CONSTANT
