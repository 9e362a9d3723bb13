"""Canonical text of the IR (``tmc dump --stage ir|opt``), for golden tests and humans.

One line per node or statement, indented by nesting; expressions in WDL/PDL-like syntax with
resolved names (``$input.x``, ``$step.a``, ``var x``, ``param e``, ``arm.active.t``); each line
ends with the source position.  Deterministic: no ids of Python objects, no hash order.
"""

from __future__ import annotations

import json

from . import ir
from . import types as t
from .nodes import UnaryOp


def expr_text(expr: ir.Expr) -> str:
    match expr:
        case ir.Const(value=value):
            return json.dumps(value, ensure_ascii=False, sort_keys=False)
        case ir.InputRef(name=name):
            return f"$input.{name}"
        case ir.StepRef(step=step):
            return f"$step.{step}"
        case ir.VarRef(name=name):
            return name
        case ir.ParamRef(name=name):
            return f"param.{name}"
        case ir.ArmField(arm=arm, field_name=field_name):
            return f"arms.{arm or 'active'}.{field_name}"
        case ir.Field(obj=obj, name=name):
            return f"{expr_text(obj)}.{name}"
        case ir.Index(obj=obj, index=index):
            return f"{expr_text(obj)}[{expr_text(index)}]"
        case ir.Call(func=func, args=args):
            return f"{func}({', '.join(expr_text(a) for a in args)})"
        case ir.Coalesce(args=args):
            return f"coalesce({', '.join(expr_text(a) for a in args)})"
        case ir.Unary(op=UnaryOp.NOT, operand=operand):
            return f"(not {expr_text(operand)})"
        case ir.Unary(operand=operand):
            return f"(-{expr_text(operand)})"
        case ir.Binary(op=op, left=left, right=right):
            return f"({expr_text(left)} {op.value} {expr_text(right)})"
        case ir.Cond(cond=cond, then=then, otherwise=otherwise):
            return f"({expr_text(then)} if {expr_text(cond)} else {expr_text(otherwise)})"
        case ir.ListExpr(items=items):
            return f"[{', '.join(expr_text(i) for i in items)}]"
        case ir.RecordExpr(entries=entries):
            return "{" + ", ".join(f"{k}: {expr_text(v)}" for k, v in entries) + "}"
    raise TypeError(type(expr).__name__)  # pragma: no cover


def _at(node: ir.Node | ir.PStmt | ir.Input) -> str:
    span = node.span
    return f"  @{span.line}:{span.column}"


def _nodes(out: list[str], body: tuple[ir.Node, ...], depth: int) -> None:
    pad = "  " * depth
    for node in body:
        match node:
            case ir.Step():
                args = ", ".join(f"{k}: {expr_text(v)}" for k, v in node.args)
                extras = []
                if node.pure:
                    extras.append("pure")
                if node.deps:
                    extras.append("deps=" + ",".join(sorted(node.deps)))
                if node.timeout is not None:
                    extras.append(f"timeout={expr_text(node.timeout)}")
                if node.retry is not None:
                    extras.append(f"retry={expr_text(node.retry)}")
                if node.on_error != "fail":
                    extras.append(f"on_error={node.on_error}")
                if node.policy is not None:
                    extras.append(f"policy={node.policy}")
                if node.flow is not None:
                    extras.append(f"flow={node.flow}")
                extra = (" [" + " ".join(extras) + "]") if extras else ""
                out.append(f"{pad}step {node.id} = {node.kind}({args}) -> "
                           f"{t.render(node.result)}{extra}{_at(node)}")
            case ir.When():
                out.append(f"{pad}when {expr_text(node.cond)}  ({node.id}){_at(node)}")
                _nodes(out, node.then, depth + 1)
                if node.orelse is not None:
                    out.append(f"{pad}else")
                    _nodes(out, node.orelse, depth + 1)
            case ir.Parallel():
                out.append(f"{pad}parallel  ({node.id}){_at(node)}")
                _nodes(out, node.branches, depth + 1)
            case ir.For():
                out.append(f"{pad}for {node.var} in {expr_text(node.iter)}  ({node.id})"
                           f"{_at(node)}")
                _nodes(out, node.body, depth + 1)
            case ir.Concurrent():
                out.append(f"{pad}concurrent  ({node.id}){_at(node)}")
                _nodes(out, node.steps, depth + 1)


def _stmts(out: list[str], body: tuple[ir.PStmt, ...], depth: int) -> None:
    pad = "  " * depth
    for stmt in body:
        match stmt:
            case ir.Assign(target=target, value=value):
                out.append(f"{pad}{target} = {expr_text(value)}{_at(stmt)}")
            case ir.If(branches=branches, orelse=orelse):
                for i, (cond, inner) in enumerate(branches):
                    out.append(f"{pad}{'if' if i == 0 else 'elif'} {expr_text(cond)}{_at(stmt)}")
                    _stmts(out, inner, depth + 1)
                if orelse is not None:
                    out.append(f"{pad}else")
                    _stmts(out, orelse, depth + 1)
            case ir.Choose(id=choose_id, target=target, options=options):
                out.append(f"{pad}choose {target}  ({choose_id}){_at(stmt)}")
                for o in options:
                    prob = f" with p = {expr_text(o.prob)}" if o.prob is not None else ""
                    out.append(f"{pad}  {o.name}: {expr_text(o.value)}{prob}")


def _inputs(out: list[str], inputs: tuple[ir.Input, ...]) -> None:
    for i in inputs:
        default = f" = {json.dumps(i.default, ensure_ascii=False)}" if i.has_default else ""
        out.append(f"  input {i.name}: {t.render(i.type)}{default}")


def dump_flow(flow: ir.Flow) -> str:
    out = [f"flow {flow.id}  ({flow.path}, {flow.version})"]
    if flow.triggers:
        out.append("  triggers " + json.dumps(flow.triggers, ensure_ascii=False,
                                              sort_keys=True))
    _inputs(out, flow.inputs)
    _nodes(out, flow.body, 1)
    for name, expr in flow.outputs:
        out.append(f"  output {name} = {expr_text(expr)}")
    out.append(f"  -> {t.render(flow.output_type)}")
    return "\n".join(out) + "\n"


def dump_policy(policy: ir.PolicyIR) -> str:
    out = [f"policy {policy.id}  ({policy.path}, {policy.version})"]
    _inputs(out, policy.inputs)
    for name, fields in policy.arms.items():
        out.append(f"  arm {name} " + json.dumps(fields, ensure_ascii=False))
    for name, value in policy.params.items():
        out.append(f"  param {name} = {json.dumps(value, ensure_ascii=False)}")
    _stmts(out, policy.body, 1)
    for name, expr in policy.emit:
        out.append(f"  emit {name} = {expr_text(expr)}")
    out.append(f"  -> {t.render(policy.emit_type)}")
    return "\n".join(out) + "\n"
