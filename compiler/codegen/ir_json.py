"""The canonical JSON of the IR (``ir/flows/<id>.json``, ``ir/policies/<id>.json``).

Role: a stable, machine-readable form of the optimized IR for tools and reviews.  Every node
is an object whose ``node``/``op`` key names its class; positions are ``[line, column]``;
types are rendered in source syntax (``list<string>``); sets (``deps``) are sorted.

Input: IR flows and policies.  Output: JSON-compatible dicts, and :func:`dumps`, the one JSON
encoding of the bundle (sorted keys, ASCII only, non-finite floats tagged).

Invariants: the same IR gives the same bytes; JSON cannot carry ``inf``/``nan``, so a
non-finite float is written ``{"$float": "inf"}`` (``"-inf"``, ``"nan"``).
"""

from __future__ import annotations

import json
import math
from typing import Any

from .. import ir
from .. import types as t
from ..source import Span


def json_safe(value: Any) -> Any:
    """``value`` with every non-finite float replaced by its ``{"$float": ...}`` tag."""
    if isinstance(value, float) and not math.isfinite(value):
        return {"$float": "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    return value


def dumps(value: Any, *, indent: int | None = None) -> bytes:
    """Canonical JSON bytes: sorted keys, ASCII, a final newline (compact unless ``indent``)."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=True, allow_nan=False, indent=indent,
                      separators=(",", ": ") if indent else (",", ":"))
    return (text + "\n").encode("ascii")


def _at(span: Span) -> list[int]:
    return [span.line, span.column]


_TYPE_TEXT: dict[t.Type, str] = {}


def _type(typ: t.Type) -> str:
    """``t.render(typ)``, cached (the same few types recur on every expression)."""
    text = _TYPE_TEXT.get(typ)
    if text is None:
        if len(_TYPE_TEXT) > 4096:
            _TYPE_TEXT.clear()
        text = _TYPE_TEXT[typ] = t.render(typ)
    return text


def expr_json(expr: ir.Expr) -> dict[str, Any]:
    out: dict[str, Any]
    match expr:
        case ir.Const(value=value):
            out = {"op": "const", "value": json_safe(value)}
        case ir.InputRef(name=name):
            out = {"op": "input", "name": name}
        case ir.StepRef(step=step):
            out = {"op": "step", "step": step}
        case ir.VarRef(name=name):
            out = {"op": "var", "name": name}
        case ir.ParamRef(name=name):
            out = {"op": "param", "name": name}
        case ir.ArmField(arm=arm, field_name=field_name):
            out = {"op": "arm", "arm": arm, "field": field_name}
        case ir.Field(obj=obj, name=name):
            out = {"op": "field", "obj": expr_json(obj), "name": name}
        case ir.Index(obj=obj, index=index):
            out = {"op": "index", "obj": expr_json(obj), "index": expr_json(index)}
        case ir.Call(func=func, args=args):
            out = {"op": "call", "func": func, "args": [expr_json(a) for a in args]}
        case ir.Coalesce(args=args):
            out = {"op": "coalesce", "args": [expr_json(a) for a in args]}
        case ir.Unary(op=op, operand=operand):
            out = {"op": "unary", "operator": op.value, "operand": expr_json(operand)}
        case ir.Binary(op=op, left=left, right=right):
            out = {"op": "binary", "operator": op.value, "left": expr_json(left),
                   "right": expr_json(right)}
        case ir.Cond(cond=cond, then=then, otherwise=otherwise):
            out = {"op": "cond", "cond": expr_json(cond), "then": expr_json(then),
                   "else": expr_json(otherwise)}
        case ir.ListExpr(items=items):
            out = {"op": "list", "items": [expr_json(i) for i in items]}
        case ir.RecordExpr(entries=entries):
            out = {"op": "record", "entries": [[k, expr_json(v)] for k, v in entries]}
        case _:  # pragma: no cover - the IR has no other expressions
            raise TypeError(type(expr).__name__)
    out["type"] = _type(expr.type)
    out["at"] = _at(expr.span)
    return out


def _optional(expr: ir.Expr | None) -> dict[str, Any] | None:
    return expr_json(expr) if expr is not None else None


def node_json(node: ir.Node) -> dict[str, Any]:
    match node:
        case ir.Step():
            return {
                "node": "step", "id": node.id, "kind": node.kind, "at": _at(node.span),
                "args": [[k, expr_json(v)] for k, v in node.args], "pure": node.pure,
                "timeout": _optional(node.timeout), "retry": _optional(node.retry),
                "on_error": node.on_error, "deps": sorted(node.deps), "policy": node.policy,
                "flow": node.flow, "result": _type(node.result),
            }
        case ir.When(cond=cond, then=then, orelse=orelse):
            return {
                "node": "when", "id": node.id, "at": _at(node.span), "cond": expr_json(cond),
                "then": [node_json(n) for n in then],
                "else": [node_json(n) for n in orelse] if orelse is not None else None,
                "else_at": _at(node.else_span) if orelse is not None else None,
            }
        case ir.Parallel(branches=branches):
            return {"node": "parallel", "id": node.id, "at": _at(node.span),
                    "branches": [node_json(n) for n in branches]}
        case ir.For(var=var, iter=iterable, body=body):
            return {"node": "for", "id": node.id, "at": _at(node.span), "var": var,
                    "iter": expr_json(iterable), "body": [node_json(n) for n in body]}
        case ir.Concurrent(steps=steps):
            return {"node": "concurrent", "id": node.id, "at": _at(node.span),
                    "steps": [node_json(s) for s in steps]}
    raise TypeError(type(node).__name__)  # pragma: no cover


def _inputs(inputs: tuple[ir.Input, ...]) -> list[dict[str, Any]]:
    return [{"name": i.name, "type": t.render(i.type), "has_default": i.has_default,
             "default": json_safe(i.default), "at": _at(i.span)} for i in inputs]


def flow_json(flow: ir.Flow) -> dict[str, Any]:
    return {
        "format": "tracemind-ir", "document": "flow", "id": flow.id, "path": flow.path,
        "version": flow.version, "description": flow.description,
        "inputs": _inputs(flow.inputs), "triggers": json_safe(flow.triggers),
        "body": [node_json(n) for n in flow.body],
        "outputs": [[k, expr_json(v)] for k, v in flow.outputs],
        "output_type": t.render(flow.output_type), "step_ids": list(flow.step_ids),
    }


def stmt_json(stmt: ir.PStmt) -> dict[str, Any]:
    match stmt:
        case ir.Assign(target=target, value=value):
            return {"node": "assign", "at": _at(stmt.span), "target": target,
                    "value": expr_json(value)}
        case ir.If(branches=branches, orelse=orelse):
            return {"node": "if", "at": _at(stmt.span),
                    "branches": [{"cond": expr_json(c), "body": [stmt_json(s) for s in body]}
                                 for c, body in branches],
                    "else": [stmt_json(s) for s in orelse] if orelse is not None else None}
        case ir.Choose(id=choose_id, target=target, options=options):
            return {"node": "choose", "id": choose_id, "at": _at(stmt.span), "target": target,
                    "options": [{"name": o.name, "at": _at(o.span), "value": expr_json(o.value),
                                 "prob": _optional(o.prob)} for o in options]}
    raise TypeError(type(stmt).__name__)  # pragma: no cover


def policy_json(policy: ir.PolicyIR) -> dict[str, Any]:
    return {
        "format": "tracemind-ir", "document": "policy", "id": policy.id, "path": policy.path,
        "version": policy.version, "description": policy.description,
        "inputs": _inputs(policy.inputs), "arms": json_safe(policy.arms),
        "params": json_safe(policy.params), "body": [stmt_json(s) for s in policy.body],
        "emit": [[k, expr_json(v)] for k, v in policy.emit],
        "emit_type": t.render(policy.emit_type),
    }
