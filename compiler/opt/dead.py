"""Pass ``drop-dead-branches``: remove ``when``/``if`` branches whose condition is constant.

Input/output: IR flows and policies, after ``fold-constants`` (which turns constant conditions
into :class:`~..ir.Const`).  A ``when`` whose condition is ``true`` is replaced by its steps and
one that is ``false`` by its ``else`` steps (or nothing); the steps of a removed branch keep
their ids in ``Flow.step_ids`` so generated code still binds them (to ``MISSING``).  PDL ``if``
chains lose their constant-false branches and end at a constant-true one.
"""

from __future__ import annotations

import dataclasses

from .. import ir
from .walk import map_bodies


def _const_bool(expr: ir.Expr) -> bool | None:
    if isinstance(expr, ir.Const) and isinstance(expr.value, bool):
        return expr.value
    return None


def _drop(body: tuple[ir.Node, ...]) -> tuple[ir.Node, ...]:
    out: list[ir.Node] = []
    for node in body:
        if isinstance(node, ir.When):
            value = _const_bool(node.cond)
            if value is True:
                out.extend(node.then)
                continue
            if value is False:
                out.extend(node.orelse or ())
                continue
        out.append(node)
    return tuple(out)


def drop_dead_flow(flow: ir.Flow) -> ir.Flow:
    return dataclasses.replace(flow, body=map_bodies(flow.body, _drop))


def _drop_stmts(stmts: tuple[ir.PStmt, ...]) -> tuple[ir.PStmt, ...]:
    out: list[ir.PStmt] = []
    for stmt in stmts:
        match stmt:
            case ir.If(branches=branches, orelse=orelse):
                kept: list[tuple[ir.Expr, tuple[ir.PStmt, ...]]] = []
                tail: tuple[ir.PStmt, ...] | None = (
                    _drop_stmts(orelse) if orelse is not None else None
                )
                for cond, body in branches:
                    value = _const_bool(cond)
                    if value is False:
                        continue
                    if value is True:
                        tail = _drop_stmts(body)
                        break
                    kept.append((cond, _drop_stmts(body)))
                if not kept:
                    out.extend(tail or ())
                else:
                    out.append(dataclasses.replace(stmt, branches=tuple(kept), orelse=tail))
            case _:
                out.append(stmt)
    return tuple(out)


def drop_dead_policy(policy: ir.PolicyIR) -> ir.PolicyIR:
    return dataclasses.replace(policy, body=_drop_stmts(policy.body))
