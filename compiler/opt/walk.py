"""Rebuilding flows and policies with a function applied to every expression or node list.

Shared by the optimizer passes so each pass states only its rewrite.  Node lists are rebuilt
recursively per nesting level (bounded by the parser's nesting limit), iterating over siblings.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from .. import ir

ExprFn = Callable[[ir.Expr], ir.Expr]


def map_node_exprs(node: ir.Node, fn: ExprFn) -> ir.Node:
    """``node`` with ``fn`` applied to its own expressions and those of nested nodes."""
    match node:
        case ir.Step(args=args, timeout=timeout, retry=retry):
            return dataclasses.replace(
                node,
                args=tuple((k, fn(v)) for k, v in args),
                timeout=fn(timeout) if timeout is not None else None,
                retry=fn(retry) if retry is not None else None,
            )
        case ir.When(cond=cond, then=then, orelse=orelse):
            return dataclasses.replace(
                node,
                cond=fn(cond),
                then=map_body_exprs(then, fn),
                orelse=map_body_exprs(orelse, fn) if orelse is not None else None,
            )
        case ir.Parallel(branches=branches):
            return dataclasses.replace(node, branches=map_body_exprs(branches, fn))
        case ir.For(iter=iterable, body=body):
            return dataclasses.replace(node, iter=fn(iterable), body=map_body_exprs(body, fn))
        case ir.Concurrent(steps=steps):
            return dataclasses.replace(
                node, steps=tuple(map_node_exprs(s, fn) for s in steps)  # type: ignore[misc]
            )
    raise TypeError(type(node).__name__)  # pragma: no cover


def map_body_exprs(body: tuple[ir.Node, ...], fn: ExprFn) -> tuple[ir.Node, ...]:
    return tuple(map_node_exprs(node, fn) for node in body)


def map_flow_exprs(flow: ir.Flow, fn: ExprFn) -> ir.Flow:
    return dataclasses.replace(
        flow,
        body=map_body_exprs(flow.body, fn),
        outputs=tuple((k, fn(v)) for k, v in flow.outputs),
    )


def map_stmt_exprs(stmt: ir.PStmt, fn: ExprFn) -> ir.PStmt:
    match stmt:
        case ir.Assign(value=value):
            return dataclasses.replace(stmt, value=fn(value))
        case ir.If(branches=branches, orelse=orelse):
            return dataclasses.replace(
                stmt,
                branches=tuple((fn(c), map_stmts_exprs(b, fn)) for c, b in branches),
                orelse=map_stmts_exprs(orelse, fn) if orelse is not None else None,
            )
        case ir.Choose(options=options):
            return dataclasses.replace(
                stmt,
                options=tuple(
                    dataclasses.replace(o, value=fn(o.value),
                                        prob=fn(o.prob) if o.prob is not None else None)
                    for o in options
                ),
            )
    raise TypeError(type(stmt).__name__)  # pragma: no cover


def map_stmts_exprs(stmts: tuple[ir.PStmt, ...], fn: ExprFn) -> tuple[ir.PStmt, ...]:
    return tuple(map_stmt_exprs(s, fn) for s in stmts)


def map_policy_exprs(policy: ir.PolicyIR, fn: ExprFn) -> ir.PolicyIR:
    return dataclasses.replace(
        policy,
        body=map_stmts_exprs(policy.body, fn),
        emit=tuple((k, fn(v)) for k, v in policy.emit),
    )


NodesFn = Callable[[tuple[ir.Node, ...]], tuple[ir.Node, ...]]


def map_bodies(body: tuple[ir.Node, ...], fn: NodesFn) -> tuple[ir.Node, ...]:
    """Apply ``fn`` to every node list, innermost first (``fn`` sees rebuilt children)."""
    rebuilt: list[ir.Node] = []
    for node in body:
        match node:
            case ir.When(then=then, orelse=orelse):
                node = dataclasses.replace(
                    node, then=map_bodies(then, fn),
                    orelse=map_bodies(orelse, fn) if orelse is not None else None)
            case ir.Parallel(branches=branches):
                # Each child is one branch: a rewrite may drop a branch or replace it by one
                # node, never splice several nodes in (that would make them concurrent).
                kept: list[ir.Node] = []
                for branch in branches:
                    result = map_bodies((branch,), fn)
                    if len(result) <= 1:
                        kept.extend(result)
                    else:
                        kept.append(branch)
                node = dataclasses.replace(node, branches=tuple(kept))
            case ir.For(body=inner):
                node = dataclasses.replace(node, body=map_bodies(inner, fn))
        rebuilt.append(node)
    return fn(tuple(rebuilt))
