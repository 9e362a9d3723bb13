"""Name resolution, definite assignment and type checking of one PDL policy.

Role: check a :class:`~.nodes.Policy` against language.md section 6: inputs (default
``values: map<any>``), arms (same fields with the same types: the types must join, so int and
float mix as float and a null field makes it optional), parameters (typed by their data
literal), the ``evaluate`` statements (conditions are bool, every read is of a definitely
assigned variable, ``choose`` rules) and the ``emit`` block, whose bindings form the policy's
output record type.

Input: the policy, its source and the sink.  Output: the policy's :class:`PolicyInfo` (inputs and
emit record), expression types in the session, diagnostics in the sink.

Invariants:
- A variable has one type: the join of every value assigned to it in document order (PDL has no
  loops, so document order covers every path); an assignment that does not join is TM0302.
- Definite assignment follows control flow: a branch starts from the set assigned before the
  ``if``, and after it only what every path (including a missing ``else``) assigned remains.
- Blocks are walked by :func:`~.check_expr.drive`, never by Python recursion.
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import PurePath

from . import nodes as n
from . import types as t
from .check_const import fold
from .check_context import PolicyInfo, Session
from .check_expr import ExprChecker, drive, span_of
from .diagnostics import Note, Sink
from .kinds import ParamSig
from .source import SourceFile, Span

DEFAULT_INPUTS = {"values": ParamSig("values", t.MapOf(t.ANY), True, False)}

_Body = tuple[tuple[n.PStmt, ...], set[str]]
_Walk = Generator[_Body, set[str], set[str]]


class PolicyChecker(ExprChecker):
    """Checks one policy; :meth:`run` returns what ``policy.apply`` steps need of it."""

    in_policy = True

    def __init__(
        self, source: SourceFile, sink: Sink, session: Session, policy: n.Policy
    ) -> None:
        super().__init__(source, sink, strict=session.strict, types=session.result.types)
        self.policy = policy
        self.inputs: dict[str, ParamSig] = {}
        self.used_inputs: set[str] = set()
        self.params: dict[str, t.Type] = {}
        self.param_values: dict[str, object] = {}
        self.arm_type: t.Record = t.EMPTY_RECORD
        self.arm_names: list[str] = []
        self.variables: set[str] = set()
        self.var_types: dict[str, t.Type] = {}
        self.var_spans: dict[str, Span] = {}
        self.reads: set[str] = set()
        self.defined: set[str] = set()
        self.in_emit = False

    def run(self) -> PolicyInfo:
        self._inputs()
        self._arms()
        self._params()
        self._collect_variables()
        self.defined = drive(self._block((self.policy.evaluate, set())), self._block)
        self.in_emit = True
        emit = t.Record(tuple((b.name, self.expr(b.value)) for b in self.policy.emit))
        self.in_emit = False
        for name in sorted(self.variables - self.reads, key=lambda v: self.var_spans[v].offset):
            self.report("TM0606", self.var_spans[name], name=name)
        for decl in self.policy.inputs:
            if decl.name in self.inputs and decl.name not in self.used_inputs:
                self.report("TM0605", span_of(decl.name_span, decl.span), name=decl.name)
        return PolicyInfo(
            name=self.policy.name,
            path=self.source.display_path,
            stem=PurePath(self.source.display_path).stem,
            inputs=self.inputs,
            emit=emit,
            span=span_of(self.policy.name_span, self.policy.span),
        )

    # -- declarations ---------------------------------------------------------------------

    def _inputs(self) -> None:
        for decl in self.policy.inputs:
            span = span_of(decl.name_span, decl.span)
            if decl.name in self.inputs:
                self.report("TM0209", span, what="input", name=decl.name)
                continue
            if decl.name == "arms":
                self.report("TM0210", span, name="arms", what="an input name")
                continue
            typ = self.convert_type(decl.type)
            if decl.default is not None:
                self.expect(decl.default, self.expr(decl.default), typ,
                            f"the default of input `{decl.name}`")
            self.inputs[decl.name] = ParamSig(decl.name, typ, decl.default is None, False)
        if not self.policy.inputs:
            self.inputs = dict(DEFAULT_INPUTS)

    def _arms(self) -> None:
        arms = self.policy.arms
        types: list[t.Record] = []
        seen: set[str] = set()
        for arm in arms:
            span = span_of(arm.name_span, arm.span)
            if arm.name == "active":
                self.report("TM0210", span, name="active", what="an arm name")
            elif arm.name in seen:
                self.report("TM0209", span, what="arm", name=arm.name)
            seen.add(arm.name)
            types.append(t.Record(tuple((f.key, t.type_of_data(f.value)) for f in arm.fields)))
        self.arm_names = [arm.name for arm in arms if arm.name != "active"]
        if not arms:
            return
        first, first_type = arms[0], types[0]
        joined = dict(first_type.fields)
        for arm, arm_type in zip(arms[1:], types[1:], strict=True):
            self._compare_arm(first, first_type, arm, arm_type, joined)
        self.arm_type = t.Record(tuple(joined.items()))

    def _compare_arm(
        self, first: n.Arm, first_type: t.Record, arm: n.Arm, arm_type: t.Record,
        joined: dict[str, t.Type],
    ) -> None:
        """TM0506 for each way ``arm`` differs from the first arm; widen ``joined``."""
        for entry in arm.fields:
            span = span_of(entry.key_span, entry.span)
            want = first_type.get(entry.key)
            got = arm_type.get(entry.key)
            assert got is not None
            if want is None:
                self.report("TM0506", span, message=f"arm `{arm.name}` has field `{entry.key}` "
                            f"that arm `{first.name}` does not have")
                continue
            both = t.join(joined[entry.key], got)
            if both is None:
                self.report("TM0506", entry.value.span,
                            message=f"field `{entry.key}` is `{t.render(got)}` in arm "
                            f"`{arm.name}` but `{t.render(want)}` in arm `{first.name}`")
            else:
                joined[entry.key] = both
        for name in first_type.names:
            if arm_type.get(name) is None:
                self.report("TM0506", span_of(arm.name_span, arm.span),
                            message=f"arm `{arm.name}` has no field `{name}` (arm "
                            f"`{first.name}` has it)")

    def _params(self) -> None:
        for param in self.policy.params:
            span = span_of(param.name_span, param.span)
            if param.name in self.inputs or param.name in self.params:
                self.report("TM0209", span, what="name", name=param.name)
                continue
            self.params[param.name] = t.type_of_data(param.value)
            if isinstance(param.value, n.DataScalar):
                self.param_values[param.name] = param.value.value

    def _collect_variables(self) -> None:
        pending: list[n.PStmt] = list(reversed(self.policy.evaluate))
        while pending:
            stmt = pending.pop()
            match stmt:
                case n.Assign(target=target):
                    self._declare(target, span_of(stmt.target_span, stmt.span))
                case n.Choose(options=options):
                    for option in options:
                        if option.target is not None:
                            self._declare(option.target,
                                          span_of(option.target_span, option.span))
                case n.If(branches=branches, orelse=orelse):
                    pending.extend(reversed(orelse or ()))
                    for branch in reversed(branches):
                        pending.extend(reversed(branch.body))

    def _declare(self, name: str, span: Span) -> None:
        if name in self.variables:
            return
        if name == "arms":
            self.report("TM0210", span, name="arms", what="a variable")
            return
        if name in self.inputs or name in self.params:
            what = "input" if name in self.inputs else "parameter"
            self.sink.report("TM0209", self.source.display_path, span,
                             help=f"`{name}` is a {what} of this policy; pick another name",
                             what="name", name=name)
            return
        self.variables.add(name)
        self.var_spans[name] = span

    # -- statements -----------------------------------------------------------------------

    def _block(self, request: _Body) -> _Walk:
        body, defined = request
        for stmt in body:
            self.defined = defined
            match stmt:
                case n.Assign(target=target, value=value):
                    self._assign(target, value, self.expr(value))
                    defined.add(target)
                case n.If(branches=branches, orelse=orelse):
                    outcomes: list[set[str]] = []
                    for branch in branches:
                        self.defined = defined
                        self.condition(branch.cond, "the branch is always taken",
                                       "the branch is never taken")
                        outcomes.append((yield (branch.body, set(defined))))
                    if orelse is not None:
                        outcomes.append((yield (orelse, set(defined))))
                    else:
                        outcomes.append(defined)
                    defined = set.intersection(*outcomes)
                case n.Choose(options=options):
                    defined |= self._choose(stmt, options)
        return defined

    def _assign(self, target: str, value: n.Expr, typ: t.Type) -> None:
        previous = self.var_types.get(target)
        if previous is None:
            self.var_types[target] = typ
            return
        joined = t.join(previous, typ)
        if joined is None:
            self.sink.report(
                "TM0302",
                self.source.display_path,
                value.span,
                label=f"assigned to `{target}`",
                notes=(Note(f"`{target}` is `{t.render(previous)}` from its first assignment",
                            self.var_spans.get(target)),),
                want=t.render(previous),
                got=t.render(typ),
            )
        else:
            self.var_types[target] = joined

    def _choose(self, stmt: n.Choose, options: tuple[n.ChooseOption, ...]) -> set[str]:
        """Check a ``choose``; the variables every option assigns."""
        targets = list(dict.fromkeys(o.target for o in options if o.target is not None))
        bare = [o for o in options if o.target is None]
        common = targets[0] if len(targets) == 1 else None
        if bare and common is None:
            first = bare[0]
            span = span_of(first.name_span, first.span)
            if targets:
                listed = ", ".join(f"`{name}`" for name in targets)
                message = (f"option `{first.name}` is a bare expression, but the other options "
                           f"assign different variables ({listed})")
            else:
                message = (f"no option of this `choose` assigns a variable; write "
                           f"`{first.name}: <variable> = ...`")
            self.report("TM0505", span, message=message)
        defined = self.defined
        total = 0.0
        without_p: list[n.ChooseOption] = []
        for option in options:
            self.defined = defined
            typ = self.expr(option.value)
            target = option.target or common
            if target is not None:
                self._assign(target, option.value, typ)
            if option.prob is None:
                without_p.append(option)
                continue
            prob = self.expr(option.prob)
            self.expect(option.prob, prob, t.FLOAT, "the probability")
            known, value = fold(option.prob, self.param_values)
            if known and isinstance(value, int | float) and not isinstance(value, bool):
                total += value
        if len(without_p) > 1:
            second = without_p[1]
            self.sink.report(
                "TM0503",
                self.source.display_path,
                span_of(second.name_span, second.span),
                notes=(Note(f"option `{without_p[0].name}` has none either",
                            span_of(without_p[0].name_span, without_p[0].span)),),
                help="give all but one option a probability with `with p = ...`",
            )
        if total > 1 + 1e-9:
            self.report("TM0504", stmt.span, total=f"{total:g}")
        assigned = [o.target or common for o in options]
        if assigned and all(a is not None and a == assigned[0] for a in assigned):
            return {assigned[0]} if assigned[0] is not None else set()
        return set()

    # -- names ----------------------------------------------------------------------------

    def type_name(self, node: n.Name) -> t.Type:
        name = node.id
        if name in self.variables:
            self.reads.add(name)
            if name not in self.defined:
                code = "TM0502" if self.in_emit else "TM0501"
                self.sink.report(
                    code,
                    self.source.display_path,
                    node.span,
                    notes=(Note(f"`{name}` is assigned here", self.var_spans[name]),),
                    help=("assign it on every path before `emit` (add an `else`, or assign a "
                          "default first)") if self.in_emit else
                    ("assign it before this point on every path (add an `else`, or assign a "
                     "default first)"),
                    name=name,
                )
            return self.var_types.get(name, t.ANY)
        if name in self.inputs:
            self.used_inputs.add(name)
            return self.inputs[name].type
        if name in self.params:
            return self.params[name]
        if name == "arms":
            return t.Record(tuple((arm, self.arm_type) for arm in ["active", *self.arm_names]))
        help = "`$input` and `$step` are WDL; a policy reads `values`" if name == "input" else ""
        self.report_unknown(
            "TM0207",
            name,
            node.span,
            [*self.variables, *self.inputs, *self.params, "arms"],
            help=help,
        )
        return t.ANY

    def type_ref(self, node: n.Ref) -> t.Type:
        self.sink.report(
            "TM0201",
            self.source.display_path,
            node.span,
            help="a policy reads its inputs by name, e.g. `values`",
            name=f"${node.root}",
        )
        return t.ANY

    def type_ref_attr(self, node: n.Attr, ref: n.Ref) -> t.Type:
        return self.type_ref(ref)

    def type_attr_override(self, node: n.Attr) -> t.Type | None:
        if not (isinstance(node.obj, n.Name) and node.obj.id == "arms"):
            return None
        if "arms" in self.variables or "arms" in self.inputs or "arms" in self.params:
            return None
        self.types[id(node.obj)] = self.type_name(node.obj)
        if node.name == "active" or node.name in self.arm_names:
            return self.arm_type
        self.report_unknown(
            "TM0208",
            node.name,
            span_of(node.name_span, node.span),
            ["active", *self.arm_names],
            help="arms are declared under `arms:`; `arms.active` is the arm selected for "
            "this decision",
        )
        return t.ANY

    def describe(self, node: n.Expr, typ: t.Type) -> str:
        match node:
            case n.Attr(obj=n.Name(id="arms"), name=arm):
                return f"`arms.{arm}`"
        return super().describe(node, typ)

