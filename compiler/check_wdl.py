"""Name resolution and type checking of one WDL workflow.

Role: check a :class:`~.nodes.Workflow` against language.md section 4: typed inputs and their
defaults, step ids (unique, not reserved), step kinds and arguments against the registry,
``$input``/``$step`` references and the scoping of steps (sequence, ``when``/``else``,
``parallel``, ``for``), step options, triggers and outputs; bind ``policy.apply`` and
``flow.call`` steps to the documents they name.

Input: the workflow, its source, the sink and the :class:`~.check_context.Session` (policies and
the workflows it calls are already checked).  Output: the workflow's :class:`FlowInfo` outputs,
the result tables in the session, diagnostics in the sink.

Invariants:
- Visibility is one dict of the steps guaranteed to have run, changed as the walk enters and
  leaves blocks (an undo log, not a copy per block): a block's steps are re-typed on exit
  (``T?`` after ``when``, ``list<T>`` after ``for``) and hidden while a sibling branch or a
  parallel sibling is checked.  Cost: O(steps x nesting depth).
- Nesting never recurses in Python: blocks are generators run by :func:`~.check_expr.drive`.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import PurePath

from ..stdlib.signatures import Special
from . import nodes as n
from . import types as t
from .check_context import PolicyInfo, Session
from .check_expr import ExprChecker, drive, span_of
from .check_triggers import check_triggers
from .diagnostics import Note, Sink
from .kinds import KindSig, ParamSig
from .source import SourceFile, Span

RESERVED_IDS = frozenset({"when", "else", "elif", "parallel", "for", "if", "choose"})

RETRY_FIELDS: dict[str, t.Type] = {"max": t.INT, "backoff": t.DURATION, "factor": t.FLOAT}
RETRY_TYPE = t.Record(tuple((name, t.optional(typ)) for name, typ in RETRY_FIELDS.items()))


@dataclass(slots=True)
class _StepInfo:
    step: n.Step
    order: int
    label: str
    """How messages name the step's result: ``step `read` (opcua.read)``."""


@dataclass(frozen=True, slots=True)
class _Visible:
    info: _StepInfo
    type: t.Type
    branch: bool
    """The step ran only in a ``when`` branch: optional here, read through ``coalesce``."""


@dataclass(frozen=True, slots=True)
class _Block:
    body: tuple[n.Stmt, ...]
    kind: str
    """``top``, ``when``, ``else``, ``for`` or ``par`` (one child of a ``parallel`` block)."""
    parent: tuple[int, int] | None


_Walk = Generator[_Block, None, None]


class WorkflowChecker(ExprChecker):
    """Checks one workflow: :meth:`declare_inputs` first (for every workflow of the run, so
    ``flow.call`` can see them), then :meth:`run`."""

    def __init__(
        self, source: SourceFile, sink: Sink, session: Session, workflow: n.Workflow
    ) -> None:
        super().__init__(source, sink, strict=session.strict, types=session.result.types)
        self.session = session
        self.wf = workflow
        self.inputs: dict[str, ParamSig] = {}
        self.used_inputs: set[str] = set()
        self.infos: dict[str, _StepInfo] = {}
        self.visible: dict[str, _Visible] = {}
        self.hidden: dict[str, str] = {}
        self.added: list[str] = []
        self.for_vars: list[tuple[str, t.Type]] = []
        self.lists: list[tuple[tuple[int, int] | None, str]] = []
        self.positions: dict[str, tuple[int, int]] = {}
        self.error_targets: list[tuple[n.NameValue, int, int]] = []
        self.policy_bindings: dict[str, str] = {}
        self.flow_bindings: dict[str, str] = {}
        self.step_results: dict[str, t.Type] = {}

    # -- phases ---------------------------------------------------------------------------

    def declare_inputs(self) -> dict[str, ParamSig]:
        """Convert the input types (before any workflow is checked: ``flow.call`` needs them)."""
        for decl in self.wf.inputs:
            span = span_of(decl.name_span, decl.span)
            if decl.name in self.inputs:
                self.report("TM0209", span, what="input", name=decl.name)
                continue
            typ = self.convert_type(decl.type)
            self.inputs[decl.name] = ParamSig(decl.name, typ, decl.default is None, False)
        return dict(self.inputs)

    def run(self) -> t.Record:
        """Check the whole workflow; the result is its outputs record."""
        self._input_defaults()
        self._collect_steps()
        drive(self._walk(_Block(self.wf.steps, "top", None)), self._walk)
        self._check_error_targets()
        outputs = t.Record(tuple((b.name, self.expr(b.value)) for b in self.wf.outputs))
        check_triggers(self, self.wf.triggers)
        for decl in self.wf.inputs:
            if decl.name not in self.used_inputs:
                self.report("TM0605", span_of(decl.name_span, decl.span), name=decl.name)
        result = self.session.result
        result.outputs[self.wf.name] = outputs
        result.policy_bindings[self.wf.name] = self.policy_bindings
        result.flow_bindings[self.wf.name] = self.flow_bindings
        result.step_results[self.wf.name] = self.step_results
        return outputs

    def _input_defaults(self) -> None:
        """Type each default against its input; a default sees only the inputs before it."""
        declared = self.inputs
        self.inputs = {}
        for decl in self.wf.inputs:
            sig = declared.get(decl.name)
            if sig is None:
                continue
            if decl.default is not None:
                got = self.expr(decl.default)
                self.expect(decl.default, got, sig.type, f"the default of input `{decl.name}`")
            self.inputs[decl.name] = sig
        self.inputs = declared

    def _collect_steps(self) -> None:
        """Every step id in document order: duplicates (TM0209) and reserved ids (TM0210)."""
        pending: list[n.Stmt] = list(reversed(self.wf.steps))
        order = 0
        while pending:
            stmt = pending.pop()
            match stmt:
                case n.Step(id=step_id):
                    span = span_of(stmt.id_span, stmt.span)
                    if step_id in RESERVED_IDS:
                        self.report("TM0210", span, name=step_id, what="a step id")
                    first = self.infos.get(step_id)
                    if first is not None:
                        self.sink.report(
                            "TM0209",
                            self.source.display_path,
                            span,
                            notes=(Note("first used here", span_of(first.step.id_span,
                                                                   first.step.span)),),
                            help="step ids are unique across the whole workflow",
                            what="step id",
                            name=step_id,
                        )
                    else:
                        self.infos[step_id] = _StepInfo(
                            stmt, order, f"step `{step_id}` ({stmt.kind})"
                        )
                    order += 1
                case n.When(body=body, orelse=orelse):
                    pending.extend(reversed(orelse or ()))
                    pending.extend(reversed(body))
                case n.Parallel(body=body) | n.For(body=body):
                    pending.extend(reversed(body))

    # -- the block walk -------------------------------------------------------------------

    def _walk(self, block: _Block) -> _Walk:
        key = len(self.lists)
        self.lists.append((block.parent, block.kind))
        for index, stmt in enumerate(block.body):
            here = (key, index)
            match stmt:
                case n.Step():
                    self._step(stmt, key, index)
                case n.When(cond=cond, body=body, orelse=orelse):
                    self.condition(cond, "the `when` branch is always taken",
                                   "the `when` branch is never taken")
                    mark = len(self.added)
                    yield _Block(body, "when", here)
                    if orelse is not None:
                        line = stmt.span.line
                        hidden = self._hide(mark, f"it is in the other branch of the `when` at "
                                                  f"line {line}")
                        yield _Block(orelse, "else", here)
                        self._unhide(hidden)
                    for step_id in self.added[mark:]:
                        vis = self.visible.get(step_id)
                        if vis is not None:
                            self.visible[step_id] = _Visible(vis.info, vis.type, True)
                case n.Parallel(body=children):
                    hidden = []
                    for child in children:
                        mark = len(self.added)
                        yield _Block((child,), "par", here)
                        hidden.extend(self._hide(mark, "it runs in parallel with this step"))
                    self._unhide(hidden)
                case n.For(var=var, iter=iterable, body=body):
                    self.for_vars.append((var, self._for_item(iterable)))
                    mark = len(self.added)
                    yield _Block(body, "for", here)
                    self.for_vars.pop()
                    for step_id in self.added[mark:]:
                        vis = self.visible.get(step_id)
                        if vis is not None:
                            item = t.optional(vis.type) if vis.branch else vis.type
                            self.visible[step_id] = _Visible(vis.info, t.ListOf(item), False)

    def _hide(self, mark: int, reason: str) -> list[tuple[str, _Visible]]:
        hidden = []
        for step_id in self.added[mark:]:
            vis = self.visible.pop(step_id, None)
            if vis is not None:
                hidden.append((step_id, vis))
                self.hidden[step_id] = reason
        return hidden

    def _unhide(self, hidden: list[tuple[str, _Visible]]) -> None:
        for step_id, vis in hidden:
            self.visible[step_id] = vis
            self.hidden.pop(step_id, None)

    def _for_item(self, iterable: n.Expr) -> t.Type:
        typ = self.expr(iterable)
        if isinstance(typ, t.ListOf):
            return t.ANY if typ.item == t.NEVER else typ.item
        if typ == t.ANY and self.strict and not isinstance(iterable, n.Invalid):
            self.report("TM0604", iterable.span, what="the `for` list")
        elif typ not in (t.ANY, t.NEVER):
            self.expect(iterable, typ, t.ListOf(t.ANY), "the `for` list")
        return t.ANY

    # -- steps ----------------------------------------------------------------------------

    def _step(self, step: n.Step, key: int, index: int) -> None:
        sig = self.session.kinds.get(step.kind)
        result: t.Type = t.ANY
        if not isinstance(sig, KindSig):
            notes = (Note(f"its signature is invalid: {sig}"),) if sig is not None else ()
            self.report_unknown(
                "TM0211",
                step.kind,
                span_of(step.kind_span, step.span),
                self.session.kinds.names(),
                notes=notes,
            )
            for binding in step.args:
                self.expr(binding.value)
        elif sig.kind.special is Special.POLICY:
            result = self._policy_step(step, sig)
        elif sig.kind.special is Special.FLOW:
            result = self._flow_step(step, sig)
        else:
            result = self._arguments(step, sig.params, step.kind, sig)
        if isinstance(sig, KindSig):
            self._name_fields(step, sig.kind.special)
        self._options(step, key, index)
        info = self.infos.get(step.id)
        if info is None or info.step is not step:
            return
        self.visible[step.id] = _Visible(info, result, False)
        self.added.append(step.id)
        self.positions[step.id] = (key, index)
        self.step_results[step.id] = result

    def _name_fields(self, step: n.Step, special: Special | None) -> None:
        """A ``policy:``/``flow:`` name field on a kind that does not take it."""
        for value, owner in ((step.policy, Special.POLICY), (step.flow, Special.FLOW)):
            if value is not None and special is not owner:
                self.report("TM0305", value.span, kind=step.kind, name=owner.value)

    def _arguments(
        self,
        step: n.Step,
        params: dict[str, ParamSig],
        kind: str,
        sig: KindSig | None,
        notes: tuple[Note, ...] = (),
    ) -> t.Type:
        """Check the bindings of ``step`` against ``params``; the result type of ``sig``.
        ``notes`` go with an unknown argument (what the arguments come from)."""
        bindings: dict[str, t.Type] = {}
        seen: set[str] = set()
        for binding in step.args:
            got = self.expr(binding.value)
            seen.add(binding.name)
            param = params.get(binding.name)
            if param is None or param.name_field:
                self.report_unknown(
                    "TM0305",
                    binding.name,
                    span_of(binding.name_span, binding.span),
                    [p.name for p in params.values() if not p.name_field],
                    notes=notes,
                    kind=kind,
                )
                continue
            if t.contains_param(param.type):
                t.bind_params(param.type, got, bindings)
            self.expect(binding.value, got, t.substitute(param.type, bindings),
                        f"argument `{binding.name}`")
        for param in params.values():
            if step.partial:
                break
            if param.required and not param.name_field and param.name not in seen:
                self.sink.report(
                    "TM0306",
                    self.source.display_path,
                    span_of(step.id_span, step.span),
                    help=f"add `{param.name}: <{t.render(param.type)}>` to the step",
                    kind=kind,
                    name=param.name,
                )
        if sig is None:
            return t.ANY
        return t.substitute(sig.result, bindings)

    def _policy_step(self, step: n.Step, sig: KindSig) -> t.Type:
        """``policy.apply``: the arguments are the bound policy's inputs, the result its emit
        record (``any`` when the policy is unknown, which is TM0212)."""
        policy = self._bind_policy(step)
        if policy is None:
            for binding in step.args:
                self.expr(binding.value)
            return t.ANY
        self.policy_bindings[step.id] = policy.name
        params = {"policy": sig.params["policy"], **policy.inputs}
        inputs = ", ".join(f"`{name}`" for name in policy.inputs) or "none"
        note = Note(f"the arguments are the inputs of policy `{policy.name}`: {inputs}")
        self._arguments(step, params, step.kind, None, (note,))
        return policy.emit

    def _bind_policy(self, step: n.Step) -> PolicyInfo | None:
        """The policy named by ``policy:``, else (the v0 rule, also accepted in v1 but
        reported by --strict as TM0607) the policy file next to the workflow with the same stem
        (``flows/x.wdl`` -> ``flows/x.pdl``), else the only policy file of the run with that
        stem."""
        policies = self.session.policies
        if step.policy is not None:
            found = policies.get(step.policy.value)
            if found is None:
                self.report_unknown("TM0212", step.policy.value, step.policy.span, policies)
            return found
        path = self.source.display_path
        stem = PurePath(path).stem
        by_stem = self.session.policies_by_stem
        found = by_stem.get(os.path.splitext(path)[0]) or by_stem.get(stem)
        span = span_of(step.kind_span, step.id_span, step.span)
        if found is None:
            self.report_unknown(
                "TM0212",
                stem,
                span,
                policies,
                help=f"no policy file `{stem}.pdl` is in this compilation; name the policy "
                "with `policy: <name>`",
            )
        elif self.strict and self.wf.v1:
            self.report("TM0607", span, name=found.name)
        return found

    def _flow_step(self, step: n.Step, sig: KindSig) -> t.Type:
        """``flow.call``: ``flow:`` names a workflow of this compilation, whose declared inputs
        type the ``inputs`` argument and whose outputs record is the result.  A flow that is not
        in the compilation is only a warning (TM0608; a run may check a subset of a project) and
        its result is ``any``; so is a flow in a call cycle that is not checked yet."""
        flow = None
        if step.flow is not None:
            flow = self.session.flows.get(step.flow.value)
            if flow is None:
                self.report_unknown("TM0608", step.flow.value, step.flow.span,
                                    self.session.flows)
        elif not step.partial:
            self.sink.report("TM0306", self.source.display_path, span_of(step.id_span, step.span),
                             help="name the flow to run with `flow: <workflow name>`",
                             kind=step.kind, name="flow")
        self._arguments(step, sig.params, step.kind, None)
        if flow is None:
            return t.ANY
        self.flow_bindings[step.id] = flow.name
        inputs_arg = next((b for b in step.args if b.name == "inputs"), None)
        if inputs_arg is not None:
            want = t.Record(tuple(
                (p.name, p.type if p.required else t.optional(p.type))
                for p in flow.inputs.values()
            ))
            self.expect(inputs_arg.value, self.types[id(inputs_arg.value)], want,
                        f"the inputs of flow `{flow.name}`")
        return flow.outputs if flow.outputs is not None else t.ANY

    def _options(self, step: n.Step, key: int, index: int) -> None:
        options = step.options
        if options.timeout is not None:
            got = self.expr(options.timeout)
            self.expect(options.timeout, got, t.DURATION, "`@timeout`")
        if options.retry is not None:
            self._retry(options.retry)
        target = options.on_error
        if target is not None and target.value not in ("fail", "continue"):
            self.error_targets.append((target, key, index))

    def _retry(self, node: n.Expr) -> None:
        got = self.expr(node)
        match got:
            case t.Record(fields=fields):
                for name, typ in fields:
                    want = RETRY_FIELDS.get(name)
                    value = _entry_value(node, name)
                    if want is None:
                        entry_span = _entry_key_span(node, name)
                        self.report_unknown("TM0304", name, entry_span, RETRY_FIELDS,
                                            owner="`@retry`")
                    elif value is not None:
                        self.expect(value, typ, want, f"`@retry` field `{name}`")
                    elif not t.assignable(typ, want):
                        self.expect(node, got, RETRY_TYPE, "`@retry`")
            case t.MapOf(value=value) if value == t.ANY:
                pass
            case _:
                self.expect(node, got, RETRY_TYPE, "`@retry`")

    def _check_error_targets(self) -> None:
        for target, key, index in self.error_targets:
            name = target.value
            where = self.positions.get(name)
            if where is None or not self._jumpable(key, index, where):
                notes: tuple[Note, ...] = ()
                info = self.infos.get(name)
                if info is not None:
                    notes = (Note(f"`{name}` is defined here",
                                  span_of(info.step.id_span, info.step.span)),)
                    help = ("the target must come later, in the same block or an enclosing "
                            "one, and not outside a `for` or `parallel` block")
                    self.sink.report("TM0409", self.source.display_path, target.span,
                                     notes=notes, help=help, name=name)
                else:
                    targets = [step_id for step_id, at in self.positions.items()
                               if self._jumpable(key, index, at)]
                    self.report_unknown("TM0409", name, target.span,
                                        ["fail", "continue", *targets],
                                        help="use `fail`, `continue` or the id of a later step")

    def _jumpable(self, key: int, index: int, target: tuple[int, int]) -> bool:
        """Whether the step at ``(key, index)`` may jump to the step at ``target``."""
        while True:
            parent, kind = self.lists[key]
            if key == target[0] and target[1] > index and kind != "par":
                return True
            if kind in ("for", "par") or parent is None:
                return False
            key, index = parent

    # -- references -----------------------------------------------------------------------

    def type_name(self, node: n.Name) -> t.Type:
        for var, typ in reversed(self.for_vars):
            if var == node.id:
                return typ
        help = ""
        if node.id in self.inputs:
            help = f"inputs are read as `$input.{node.id}`"
        elif node.id in self.infos:
            help = f"step results are read as `$step.{node.id}`"
        self.report_unknown("TM0207", node.id, node.span, [v for v, _ in self.for_vars],
                            help=help)
        return t.ANY

    def type_ref(self, node: n.Ref) -> t.Type:
        if node.root == "input":
            self.used_inputs.update(self.inputs)
            return t.Record(tuple((p.name, p.type) for p in self.inputs.values()))
        if node.root == "step":
            self.sink.report("TM0201", self.source.display_path, node.span,
                             help="name a step: `$step.<id>`", name="$step")
        # Any other root was reported by the parser (TM0201 with "did you mean").
        return t.ANY

    def type_ref_attr(self, node: n.Attr, ref: n.Ref) -> t.Type:
        span = span_of(node.name_span, node.span)
        if ref.root == "input":
            param = self.inputs.get(node.name)
            if param is None:
                self.report_unknown("TM0202", node.name, span, self.inputs)
                return t.ANY
            self.used_inputs.add(node.name)
            return param.type
        if ref.root != "step":
            self.expr(ref)
            return t.ANY
        vis = self.visible.get(node.name)
        if vis is None:
            self._not_visible(node.name, span)
            return t.ANY
        if vis.branch:
            if self.coalesce_depth:
                return t.optional(vis.type)
            self.sink.report(
                "TM0205",
                self.source.display_path,
                node.span,
                help=f"read it with a default, e.g. `coalesce($step.{node.name}.<field>, ...)`",
                name=node.name,
            )
        return vis.type

    def _not_visible(self, name: str, span: Span) -> None:
        info = self.infos.get(name)
        if info is None:
            self.report_unknown("TM0203", name, span, self.infos)
            return
        reason = self.hidden.get(name)
        if reason is None:
            reason = "it runs after this point"
        self.sink.report(
            "TM0204",
            self.source.display_path,
            span,
            notes=(Note(f"`{name}` is defined here", span_of(info.step.id_span, info.step.span)),),
            help=reason,
            name=name,
        )

    def origin(self, node: n.Expr) -> str:
        match node:
            case n.Attr(obj=n.Attr(obj=n.Ref(root="step"), name=step_id), name=field):
                policy = self.policy_bindings.get(step_id)
                if policy is not None:
                    return f" (from policy {policy}, emit `{field}`)"
                info = self.infos.get(step_id)
                if info is not None:
                    return f" (field `{field}` of {info.label})"
            case n.Attr(obj=n.Ref(root="input"), name=name):
                return f" (input `{name}`)"
        return ""

    def describe(self, node: n.Expr, typ: t.Type) -> str:
        match node:
            case n.Attr(obj=n.Ref(root="step"), name=name) if name in self.infos:
                policy = self.policy_bindings.get(name)
                if isinstance(typ, t.ListOf):
                    return f"`$step.{name}` (a list: one result per `for` iteration)"
                if policy is not None:
                    return f"the emit record of policy `{policy}` (step `{name}`)"
                return self.infos[name].label
        return super().describe(node, typ)


def _entry_value(node: n.Expr, key: str) -> n.Expr | None:
    if isinstance(node, n.MapExpr):
        for entry in node.entries:
            if entry.key == key:
                return entry.value
    return None


def _entry_key_span(node: n.Expr, key: str) -> Span:
    if isinstance(node, n.MapExpr):
        for entry in node.entries:
            if entry.key == key:
                return span_of(entry.key_span, entry.span)
    return node.span

