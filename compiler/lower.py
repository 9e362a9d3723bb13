"""Lowering: checked AST -> IR.

Input: documents that checked without errors, and the :class:`~.check_context.CheckResult`
(expression types, policy and flow bindings, output and emit records).
Output: one :class:`~.ir.Flow` per workflow and one :class:`~.ir.PolicyIR` per policy.

Lowering resolves every name once: ``$input.x`` becomes :class:`~.ir.InputRef`,
``$step.a.b`` a :class:`~.ir.Field` of a :class:`~.ir.StepRef`, ``arms.active.t`` an
:class:`~.ir.ArmField`, a PDL parameter a :class:`~.ir.ParamRef`.  Literals become
:class:`~.ir.Const` with run-time values (durations in seconds).  It never reports
diagnostics: whatever could be wrong was reported by the checker, and a document with errors is
never lowered.  Input defaults must fold to constants (:class:`LowerError` otherwise).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from ..stdlib.signatures import STDLIB, Registry
from . import ir
from . import nodes as n
from . import types as t
from .check_context import CheckResult
from .source import Span


class LowerError(Exception):
    """A construct that checks but cannot be compiled, with its location."""

    def __init__(self, path: str, span: Span, message: str) -> None:
        super().__init__(f"{path}:{span.line}:{span.column}: {message}")
        self.path = path
        self.span = span
        self.message = message


def block_id(kind: str, span: Span) -> str:
    return f"{kind}@{span.line}:{span.column}"


def data_json(data: n.Data) -> ir.Json:
    """The JSON value of a data literal (iterative over nesting)."""
    match data:
        case n.DataScalar(value=value):
            return value
        case n.DataList(items=items):
            return [data_json(item) for item in items]
        case n.DataMap(entries=entries):
            return {entry.key: data_json(entry.value) for entry in entries}
    raise TypeError(type(data).__name__)  # pragma: no cover


class _Exprs:
    """Expression lowering with the name scopes of one document."""

    def __init__(
        self,
        path: str,
        types: Mapping[int, t.Type],
        *,
        variables: frozenset[str] = frozenset(),
        inputs: frozenset[str] = frozenset(),
        params: frozenset[str] = frozenset(),
    ) -> None:
        self.path = path
        self.types = types
        self.variables = set(variables)
        self.inputs = inputs
        self.params = params

    def expr(self, node: n.Expr) -> ir.Expr:
        typ = self.types.get(id(node), t.ANY)
        span = node.span
        match node:
            case n.Literal(kind=n.LitKind.DURATION, value=value):
                assert isinstance(value, int | float) and not isinstance(value, bool)
                return ir.Const(value=value / 1000, type=typ, span=span)
            case n.Literal(value=value):
                return ir.Const(value=value, type=typ, span=span)
            case n.PlainString(value=value):
                return ir.Const(value=value, type=t.STRING, span=span)
            case n.Name(id=name):
                if name in self.variables:
                    return ir.VarRef(name=name, type=typ, span=span)
                if name in self.inputs:
                    return ir.InputRef(name=name, type=typ, span=span)
                if name in self.params:
                    return ir.ParamRef(name=name, type=typ, span=span)
                raise LowerError(self.path, span, f"unresolved name `{name}`")
            case n.Attr(obj=n.Ref(root="input"), name=name):
                return ir.InputRef(name=name, type=typ, span=span)
            case n.Attr(obj=n.Ref(root="step"), name=name):
                return ir.StepRef(step=name, type=typ, span=span)
            case n.Attr(obj=n.Attr(obj=n.Name(id="arms"), name=arm), name=field) if (
                "arms" not in self.variables
            ):
                return ir.ArmField(
                    arm=None if arm == "active" else arm, field_name=field, type=typ, span=span
                )
            case n.Attr(obj=obj, name=name):
                return ir.Field(obj=self.expr(obj), name=name, type=typ, span=span)
            case n.Index(obj=obj, index=index):
                return ir.Index(obj=self.expr(obj), index=self.expr(index), type=typ, span=span)
            case n.Call(func="coalesce", args=args):
                return ir.Coalesce(args=tuple(self.expr(a) for a in args), type=typ, span=span)
            case n.Call(func=func, args=args):
                return ir.Call(func=func, args=tuple(self.expr(a) for a in args), type=typ,
                               span=span)
            case n.Unary(op=op, operand=operand):
                return ir.Unary(op=op, operand=self.expr(operand), type=typ, span=span)
            case n.Binary(op=op, left=left, right=right):
                return ir.Binary(op=op, left=self.expr(left), right=self.expr(right), type=typ,
                                 span=span)
            case n.Conditional(cond=cond, then=then, otherwise=otherwise):
                return ir.Cond(cond=self.expr(cond), then=self.expr(then),
                               otherwise=self.expr(otherwise), type=typ, span=span)
            case n.ListExpr(items=items):
                return ir.ListExpr(items=tuple(self.expr(i) for i in items), type=typ, span=span)
            case n.MapExpr(entries=entries):
                return ir.RecordExpr(entries=tuple((e.key, self.expr(e.value)) for e in entries),
                                     type=typ, span=span)
        raise LowerError(self.path, span, f"cannot compile {type(node).__name__}")


def _constant(path: str, expr: ir.Expr) -> ir.Json:
    from .opt.fold import fold_expr

    folded = fold_expr(expr)
    if isinstance(folded, ir.Const):
        return folded.value
    raise LowerError(path, expr.span, "an input default must be a constant value")


def lower_inputs(path: str, decls: tuple[n.InputDecl, ...], types: Mapping[int, t.Type]
                 ) -> tuple[ir.Input, ...]:
    exprs = _Exprs(path, types)
    out: list[ir.Input] = []
    for decl in decls:
        typ = t.from_type_expr(decl.type)
        if decl.default is None:
            out.append(ir.Input(name=decl.name, type=typ, span=decl.span))
        else:
            value = _constant(path, exprs.expr(decl.default))
            out.append(ir.Input(name=decl.name, type=typ, default=value, has_default=True,
                                span=decl.span))
    return tuple(out)


def lower_workflow(
    path: str, wf: n.Workflow, result: CheckResult, registry: Registry = STDLIB
) -> ir.Flow:
    """The IR of a checked workflow; ``path`` is the source path recorded in the bundle."""
    exprs = _Exprs(path, result.types)
    policies = result.policy_bindings.get(wf.name, {})
    flows = result.flow_bindings.get(wf.name, {})
    results = result.step_results.get(wf.name, {})
    step_ids: list[str] = []

    def step(s: n.Step) -> ir.Step:
        step_ids.append(s.id)
        args = tuple((b.name, exprs.expr(b.value)) for b in s.args)
        deps: set[str] = set()
        for _, value in args:
            deps |= ir.step_reads(value)
        opts = s.options
        timeout = exprs.expr(opts.timeout) if opts.timeout is not None else None
        retry = exprs.expr(opts.retry) if opts.retry is not None else None
        for extra in (timeout, retry):
            if extra is not None:
                deps |= ir.step_reads(extra)
        kind = registry.get(s.kind)
        return ir.Step(
            id=s.id,
            kind=s.kind,
            args=args,
            pure=bool(kind and kind.pure),
            timeout=timeout,
            retry=retry,
            on_error=opts.on_error.value if opts.on_error is not None else "fail",
            deps=frozenset(deps),
            policy=policies.get(s.id),
            flow=flows.get(s.id) or (s.flow.value if s.flow is not None else None),
            result=results.get(s.id, t.ANY),
            span=s.span,
        )

    def block(stmts: tuple[n.Stmt, ...]) -> tuple[ir.Node, ...]:
        return tuple(node(s) for s in stmts)

    def node(s: n.Stmt) -> ir.Node:
        match s:
            case n.Step():
                return step(s)
            case n.When(cond=cond, body=body, orelse=orelse):
                return ir.When(id=block_id("when", s.span), cond=exprs.expr(cond),
                               then=block(body),
                               orelse=block(orelse) if orelse is not None else None,
                               else_span=s.else_span, span=s.span)
            case n.Parallel(body=body):
                return ir.Parallel(id=block_id("parallel", s.span), branches=block(body),
                                   span=s.span)
            case n.For(var=var, iter=iterable, body=body):
                lowered_iter = exprs.expr(iterable)
                shadows = var in exprs.variables  # an inner `for` may reuse an outer name
                exprs.variables.add(var)
                try:
                    lowered_body = block(body)
                finally:
                    if not shadows:
                        exprs.variables.discard(var)
                return ir.For(id=block_id("for", s.span), var=var, iter=lowered_iter,
                              body=lowered_body, span=s.span)
        raise LowerError(path, s.span, f"cannot compile {type(s).__name__}")

    body = block(wf.steps)
    outputs = tuple((b.name, exprs.expr(b.value)) for b in wf.outputs)
    return ir.Flow(
        id=wf.name,
        path=path,
        version=wf.version,
        description=wf.description,
        inputs=lower_inputs(path, wf.inputs, result.types),
        body=body,
        outputs=outputs,
        output_type=result.outputs.get(wf.name, t.EMPTY_RECORD),
        triggers={p.name: data_json(p.value) for p in wf.triggers},
        step_ids=tuple(step_ids),
    )


DEFAULT_POLICY_INPUTS = (ir.Input(name="values", type=t.MapOf(t.ANY)),)


def _assigned(stmts: tuple[n.PStmt, ...]) -> Iterator[str]:
    stack = list(stmts)
    while stack:
        s = stack.pop()
        match s:
            case n.Assign(target=target):
                yield target
            case n.If(branches=branches, orelse=orelse):
                for branch in branches:
                    stack.extend(branch.body)
                stack.extend(orelse or ())
            case n.Choose(options=options):
                for option in options:
                    if option.target is not None:
                        yield option.target


def lower_policy(path: str, policy: n.Policy, result: CheckResult) -> ir.PolicyIR:
    """The IR of a checked policy."""
    inputs = (lower_inputs(path, policy.inputs, result.types) if policy.inputs
              else DEFAULT_POLICY_INPUTS)
    params = {p.name: data_json(p.value) for p in policy.params}
    exprs = _Exprs(path, result.types, variables=frozenset(_assigned(policy.evaluate)),
                   inputs=frozenset(i.name for i in inputs), params=frozenset(params))

    def stmts(body: tuple[n.PStmt, ...]) -> tuple[ir.PStmt, ...]:
        return tuple(stmt(s) for s in body)

    def stmt(s: n.PStmt) -> ir.PStmt:
        match s:
            case n.Assign(target=target, value=value):
                return ir.Assign(target=target, value=exprs.expr(value), span=s.span)
            case n.If(branches=branches, orelse=orelse):
                return ir.If(
                    branches=tuple((exprs.expr(b.cond), stmts(b.body)) for b in branches),
                    orelse=stmts(orelse) if orelse is not None else None,
                    span=s.span,
                )
            case n.Choose(options=options):
                targets = {o.target for o in options if o.target is not None}
                if len(targets) != 1:
                    raise LowerError(path, s.span, "`choose` options must assign one target")
                (target,) = targets
                return ir.Choose(
                    id=block_id("choose", s.span),
                    target=target,
                    options=tuple(
                        ir.Option(name=o.name, value=exprs.expr(o.value),
                                  prob=exprs.expr(o.prob) if o.prob is not None else None,
                                  span=o.span)
                        for o in options
                    ),
                    span=s.span,
                )
        raise LowerError(path, s.span, f"cannot compile {type(s).__name__}")

    return ir.PolicyIR(
        id=policy.name,
        path=path,
        version=policy.version,
        description=policy.description,
        inputs=inputs,
        arms={arm.name: {f.key: data_json(f.value) for f in arm.fields} for arm in policy.arms},
        params=params,
        body=stmts(policy.evaluate),
        emit=tuple((b.name, exprs.expr(b.value)) for b in policy.emit),
        emit_type=result.emits.get(policy.name, t.EMPTY_RECORD),
    )
