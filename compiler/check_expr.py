"""Expression typing shared by the workflow and policy checkers.

Role: give every expression node a :class:`~.types.Type` (recorded in a side table keyed by
``id(node)``) and report operator, call, field and index errors.  Names and references are
language-specific: :class:`ExprChecker` leaves them to the subclass hooks ``type_name``,
``type_ref``, ``type_ref_attr`` and ``type_attr_override``.

Input: expression nodes (:mod:`.nodes`).  Output: types, plus diagnostics in the sink.

Invariants:
- One error per fault: a sub-expression that failed to type becomes ``any``, which checks
  against everything, so errors do not cascade.
- ``coalesce(...)`` arguments are checked in "absent-tolerant" mode: reading an optional value
  (a step that ran only in a branch, a missing key) there is allowed and only marks the argument
  as possibly absent.
- Recursion is proportional to expression depth only (the parser bounds it); statement and block
  walks use :func:`drive`, which keeps nesting off the Python stack.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Generator, Iterable
from typing import TypeVar

from ..stdlib.builtins import BUILTINS
from . import nodes as n
from . import types as t
from .check_const import fold
from .diagnostics import Edit, Fix, Note, Sink
from .source import NO_SPAN, SourceFile, Span

_Req = TypeVar("_Req")
_Res = TypeVar("_Res")


def drive(
    first: Generator[_Req, _Res, _Res], spawn: Callable[[_Req], Generator[_Req, _Res, _Res]]
) -> _Res:
    """Run a generator-based recursive walk without Python recursion.

    A walker yields a request for a nested walk; ``spawn`` turns it into a generator, whose
    return value is sent back to the walker that asked.
    """
    stack = [first]
    fresh = True
    value: _Res | None = None
    while True:
        gen = stack[-1]
        try:
            request = next(gen) if fresh else gen.send(value)  # type: ignore[arg-type]
        except StopIteration as stop:
            stack.pop()
            if not stack:
                result: _Res = stop.value
                return result
            value, fresh = stop.value, False
            continue
        stack.append(spawn(request))
        fresh = True


POLICY_ONLY_BUILTINS = frozenset({"random"})
"""Builtins that draw from a decision's seeded random source (language.md section 6)."""


def suggest(name: str, candidates: Iterable[str]) -> str | None:
    """The closest candidate to a misspelt ``name``, if one is close enough.

    Candidates whose length is far from ``name``'s cannot reach the cutoff and are dropped
    before difflib runs, which keeps large scopes cheap.
    """
    slack = max(2, len(name) // 2)
    near = [c for c in candidates if abs(len(c) - len(name)) <= slack]
    matches = difflib.get_close_matches(name, near, n=1, cutoff=0.6)
    return matches[0] if matches else None


def span_of(*spans: Span) -> Span:
    """The first real span (hand-built nodes carry NO_SPAN on their detail spans)."""
    for span in spans:
        if span != NO_SPAN:
            return span
    return spans[-1]


class ExprChecker:
    """Types expressions of one document; subclasses resolve names and references."""

    in_policy = False
    """PDL checkers set this: some builtins draw from a decision's random source."""

    def __init__(
        self, source: SourceFile, sink: Sink, *, strict: bool, types: dict[int, t.Type]
    ) -> None:
        self.source = source
        self.sink = sink
        self.strict = strict
        self.types = types
        self.coalesce_depth = 0
        self.absent_reads = 0

    # -- reporting ------------------------------------------------------------------------

    def report(self, code_id: str, span: Span, **fields: object) -> None:
        self.sink.report(code_id, self.source.display_path, span, **fields)  # type: ignore[arg-type]

    def report_unknown(
        self,
        code_id: str,
        name: str,
        span: Span,
        candidates: Iterable[str],
        *,
        notes: tuple[Note, ...] = (),
        help: str = "",
        **fields: object,
    ) -> None:
        """Report an unknown name with a "did you mean" help and fix when one is close."""
        full = self.sink.full(self.source.display_path)
        best = None if full else suggest(name, candidates)
        fixes: tuple[Fix, ...] = ()
        if best is not None:
            if help:
                notes = (*notes, Note(help))
            help = f"did you mean `{best}`?"
            if span != NO_SPAN:
                fixes = (Fix(f"replace with `{best}`", (Edit(span, best),)),)
        fields.setdefault("name", name)
        self.sink.report(
            code_id,
            self.source.display_path,
            span,
            notes=notes,
            help=help,
            fixes=fixes,
            **fields,  # type: ignore[arg-type]
        )

    def expect(self, node: n.Expr, got: t.Type, want: t.Type, what: str) -> None:
        """Report TM0302 unless ``got`` fits ``want``; with --strict, report where ``any``
        stands for a more precise expected type."""
        if not t.assignable(got, want):
            self.sink.report(
                "TM0302",
                self.source.display_path,
                node.span,
                label=f"{what} is `{t.render(got)}`{self.origin(node)}",
                want=t.render(want),
                got=t.render(got),
            )
        elif self.strict and got == t.ANY and want != t.ANY and not isinstance(node, n.Invalid):
            self.report("TM0604", node.span, what=what)

    def condition(self, node: n.Expr, if_true: str, if_false: str) -> None:
        """Check a condition: bool, and not constant (TM0603 says ``if_true`` or ``if_false``,
        what the constant value means for the code it guards)."""
        got = self.expr(node)
        if got == t.ANY:
            if self.strict and not isinstance(node, n.Invalid):
                self.report("TM0604", node.span, what="the condition")
        elif got != t.BOOL and got != t.NEVER:
            hint = ""
            text = self.text_of(node) or "..."
            if got == t.STRING:
                hint = f'compare it, e.g. `{text} == "value"`'
            elif got in t.NUMERIC:
                hint = f"compare it, e.g. `{text} > 0`"
            elif isinstance(got, t.OptionalOf):
                hint = f"give it a default with `coalesce({text}, false)`"
            self.sink.report(
                "TM0303",
                self.source.display_path,
                node.span,
                label=f"this is `{t.render(got)}`{self.origin(node)}",
                help=hint,
                got=t.render(got),
            )
            return
        known, value = fold(node)
        if known and isinstance(value, bool):
            what = if_true if value else if_false
            self.report("TM0603", node.span, value=str(value).lower(), what=what)

    def convert_type(self, node: n.TypeExpr) -> t.Type:
        """The type a type field denotes, reporting unknown type names (TM0301)."""

        def unknown(named: n.NamedType) -> None:
            self.report_unknown(
                "TM0301",
                named.name,
                named.span,
                [*t.PRIMITIVES, "list", "map"],
                help="types are string, int, float, bool, null, duration, any, list<T>, "
                "map<T>, {field: T} and T?",
            )

        return t.from_type_expr(node, on_unknown=unknown)

    def text_of(self, node: n.Node) -> str | None:
        """The source text of ``node`` when it is short and on one line (for help texts)."""
        span = node.span
        if span == NO_SPAN or span.line != span.end_line or span.end_offset - span.offset > 60:
            return None
        return self.source.text[span.offset : span.end_offset] or None

    # -- hooks ----------------------------------------------------------------------------

    def type_name(self, node: n.Name) -> t.Type:
        raise NotImplementedError

    def type_ref(self, node: n.Ref) -> t.Type:
        """A bare ``$input``/``$step``."""
        raise NotImplementedError

    def type_ref_attr(self, node: n.Attr, ref: n.Ref) -> t.Type:
        """``$input.x`` or ``$step.x``."""
        raise NotImplementedError

    def type_attr_override(self, node: n.Attr) -> t.Type | None:
        """A language-specific attribute (PDL ``arms.x``), or None for the generic rules."""
        return None

    def origin(self, node: n.Expr) -> str:
        """Where the type of ``node`` comes from, as a label suffix (`` (from ...)``), or ""."""
        return ""

    def describe(self, node: n.Expr, typ: t.Type) -> str:
        """What the value of ``node`` is, for messages such as "X has no field `y`"."""
        match node:
            case n.Name(id=name):
                return f"`{name}`"
            case n.Attr(obj=n.Ref(root="input"), name=name):
                return f"input `{name}`"
        return f"`{t.render(typ)}`"

    # -- expressions ----------------------------------------------------------------------

    def expr(self, node: n.Expr) -> t.Type:
        """The type of ``node``, recorded in the side table."""
        typ = self._expr(node)
        self.types[id(node)] = typ
        return typ

    def _expr(self, node: n.Expr) -> t.Type:
        match node:
            case n.Literal(kind=kind):
                return t.literal_type(kind)
            case n.PlainString():
                return t.STRING
            case n.Invalid():
                return t.ANY
            case n.Name():
                return self.type_name(node)
            case n.Ref():
                return self.type_ref(node)
            case n.Attr(obj=n.Ref() as ref):
                return self.type_ref_attr(node, ref)
            case n.Attr(obj=obj, name=name):
                override = self.type_attr_override(node)
                if override is not None:
                    return override
                return self._attr(node, obj, name, self.expr(obj))
            case n.Index(obj=obj, index=index):
                return self._index(node, obj, self.expr(obj), index, self.expr(index))
            case n.Call():
                return self._call(node)
            case n.Unary(op=op, operand=operand):
                return self._unary(op, operand, self._operand(self.expr(operand)))
            case n.Binary(op=op, left=left, right=right):
                lt = self._operand(self.expr(left))
                rt = self._operand(self.expr(right))
                return self._binary(node, op, lt, rt)
            case n.Conditional(cond=cond, then=then, otherwise=otherwise):
                self.condition(
                    cond, "the `else` value is never used", "the `if` value is never used"
                )
                a, b = self.expr(then), self.expr(otherwise)
                joined = t.join(a, b)
                if joined is None:
                    self.expect(otherwise, b, a, "the `else` value")
                    return t.ANY
                return joined
            case n.ListExpr(items=items):
                joined = t.join_all([self.expr(item) for item in items])
                return t.ListOf(joined if joined is not None else t.ANY)
            case n.MapExpr(entries=entries):
                return t.Record(tuple((e.key, self.expr(e.value)) for e in entries))
        raise AssertionError(f"unknown expression node {node!r}")

    def _operand(self, typ: t.Type) -> t.Type:
        """Inside ``coalesce``, an optional operand is used as present (absent aborts the
        argument at run time, which coalesce treats as absent)."""
        if self.coalesce_depth and isinstance(typ, t.OptionalOf):
            self.absent_reads += 1
            return typ.inner
        return typ

    def _present(self, obj: n.Expr, typ: t.Type) -> t.Type:
        """The type to read a field or item of: optional values need ``coalesce`` first."""
        if not isinstance(typ, t.OptionalOf):
            return typ
        if self.coalesce_depth:
            self.absent_reads += 1
        else:
            self.sink.report(
                "TM0302",
                self.source.display_path,
                obj.span,
                label="this may be null",
                help="read it inside `coalesce(...)` with a default",
                want=t.render(typ.inner),
                got=t.render(typ),
            )
        return typ.inner

    def _attr(self, node: n.Attr, obj: n.Expr, name: str, obj_type: t.Type) -> t.Type:
        obj_type = self._present(obj, obj_type)
        match obj_type:
            case t.Prim(name="any" | "never"):
                if self.coalesce_depth:
                    self.absent_reads += 1
                return obj_type
            case t.Record():
                field = obj_type.get(name)
                if field is not None:
                    return field
                self.report_unknown(
                    "TM0304",
                    name,
                    span_of(node.name_span, node.span),
                    obj_type.names,
                    notes=self._fields_note(obj_type),
                    owner=self.describe(obj, obj_type),
                )
                return t.ANY
            case t.MapOf(value=value):
                if self.coalesce_depth:
                    self.absent_reads += 1
                return value
        self.report(
            "TM0304",
            span_of(node.name_span, node.span),
            owner=self.describe(obj, obj_type),
            name=name,
        )
        return t.ANY

    @staticmethod
    def _fields_note(record: t.Record) -> tuple[Note, ...]:
        if not record.fields:
            return (Note("it has no fields"),)
        return (Note("its fields are " + ", ".join(f"`{f}`" for f in record.names)),)

    def _index(
        self, node: n.Index, obj: n.Expr, obj_type: t.Type, index: n.Expr, index_type: t.Type
    ) -> t.Type:
        obj_type = self._present(obj, obj_type)
        index_type = self._operand(index_type)
        match obj_type:
            case t.Prim(name="any" | "never"):
                if self.coalesce_depth:
                    self.absent_reads += 1
                return obj_type
            case t.ListOf(item=item):
                self.expect(index, index_type, t.INT, "the list index")
                if self.coalesce_depth:
                    self.absent_reads += 1
                return item
            case t.MapOf(value=value):
                self.expect(index, index_type, t.STRING, "the map key")
                if self.coalesce_depth:
                    self.absent_reads += 1
                return value
            case t.Record():
                self.expect(index, index_type, t.STRING, "the field name")
                if isinstance(index, n.Literal) and isinstance(index.value, str):
                    field = obj_type.get(index.value)
                    if field is None:
                        self.report_unknown(
                            "TM0304",
                            index.value,
                            index.span,
                            obj_type.names,
                            notes=self._fields_note(obj_type),
                            owner=self.describe(obj, obj_type),
                        )
                        return t.ANY
                    return field
                return t.join_all([ft for _, ft in obj_type.fields]) or t.ANY
        self.sink.report(
            "TM0309",
            self.source.display_path,
            node.span,
            help="only lists (by int) and maps (by string key) can be indexed",
            got=t.render(obj_type),
        )
        return t.ANY

    def _call(self, node: n.Call) -> t.Type:
        spec = BUILTINS.get(node.func)
        if spec is None:
            for arg in node.args:
                self.expr(arg)
            self.report_unknown(
                "TM0206",
                node.func,
                span_of(node.func_span, node.span),
                BUILTINS,
                help="calls are to the builtins: " + ", ".join(BUILTINS),
            )
            return t.ANY
        if node.func == "coalesce":
            return self._coalesce(node)
        if node.func in POLICY_ONLY_BUILTINS and not self.in_policy:
            for arg in node.args:
                self.expr(arg)
            self.report("TM0215", span_of(node.func_span, node.span), name=node.func,
                        help="draw in a policy (`choose` or `random(...)` in PDL) and apply it "
                        "with a `policy.apply` step")
            return t.ANY
        arg_types = [self._operand(self.expr(arg)) for arg in node.args]
        if not spec.accepts(len(node.args)):
            self.report(
                "TM0308",
                node.span,
                name=node.func,
                want=spec.arity_text,
                got=len(node.args),
            )
            return t.ANY
        from .check_builtins import type_builtin

        return type_builtin(self, node, arg_types)

    def _coalesce(self, node: n.Call) -> t.Type:
        if not node.args:
            self.report("TM0308", node.span, name="coalesce", want="at least 1", got=0)
            return t.ANY
        result: t.Type = t.NEVER
        last_absent = False
        self.coalesce_depth += 1
        try:
            for arg in node.args:
                before = self.absent_reads
                typ = self.expr(arg)
                last_absent = (
                    self.absent_reads > before or isinstance(typ, t.OptionalOf) or typ == t.NULL
                )
                joined = t.join(result, t.strip_optional(typ) if typ != t.NULL else t.NEVER)
                if joined is None:
                    self.expect(arg, typ, result, "this `coalesce` argument")
                    result = t.ANY
                else:
                    result = joined
        finally:
            self.coalesce_depth -= 1
        return t.optional(result) if last_absent else result

    def _unary(self, op: n.UnaryOp, operand: n.Expr, typ: t.Type) -> t.Type:
        if typ in (t.ANY, t.NEVER):
            return t.BOOL if op is n.UnaryOp.NOT else typ
        if op is n.UnaryOp.NOT:
            self.expect(operand, typ, t.BOOL, "the operand of `not`")
            return t.BOOL
        if typ in t.NUMERIC or typ == t.DURATION:
            return typ
        self.sink.report(
            "TM0302",
            self.source.display_path,
            operand.span,
            label="the operand of unary `-`",
            want="a number or duration",
            got=t.render(typ),
        )
        return t.ANY

    def _binary(self, node: n.Binary, op: n.BinOp, lt: t.Type, rt: t.Type) -> t.Type:
        if op in (n.BinOp.AND, n.BinOp.OR):
            self.expect(node.left, lt, t.BOOL, f"the left operand of `{op.value}`")
            self.expect(node.right, rt, t.BOOL, f"the right operand of `{op.value}`")
            return t.BOOL
        result = binary_type(op, lt, rt)
        if result is None:
            help = ""
            if op is n.BinOp.ADD and t.STRING in (lt, rt):
                help = "convert the other operand with `str(...)`"
            elif isinstance(lt, t.OptionalOf) or isinstance(rt, t.OptionalOf):
                help = "give the optional operand a default with `coalesce(...)`"
            self.sink.report(
                "TM0307",
                self.source.display_path,
                span_of(node.op_span, node.span),
                help=help,
                op=op.value,
                left=t.render(lt),
                right=t.render(rt),
            )
            return t.BOOL if op in n.COMPARISONS else t.ANY
        return result


_ARITH_DURATION: dict[tuple[n.BinOp, t.Type, t.Type], t.Type] = {
    (n.BinOp.ADD, t.DURATION, t.DURATION): t.DURATION,
    (n.BinOp.SUB, t.DURATION, t.DURATION): t.DURATION,
    (n.BinOp.MUL, t.DURATION, t.INT): t.DURATION,
    (n.BinOp.MUL, t.DURATION, t.FLOAT): t.DURATION,
    (n.BinOp.MUL, t.INT, t.DURATION): t.DURATION,
    (n.BinOp.MUL, t.FLOAT, t.DURATION): t.DURATION,
    (n.BinOp.DIV, t.DURATION, t.INT): t.DURATION,
    (n.BinOp.DIV, t.DURATION, t.FLOAT): t.DURATION,
    (n.BinOp.DIV, t.DURATION, t.DURATION): t.FLOAT,
}


def binary_type(op: n.BinOp, lt: t.Type, rt: t.Type) -> t.Type | None:
    """The result type of ``lt op rt`` (not ``and``/``or``), or None if the operator does not
    take those operands."""
    if op in n.COMPARISONS:
        return t.BOOL if _comparable(op, lt, rt) else None
    if t.ANY in (lt, rt) or t.NEVER in (lt, rt):
        return t.ANY if t.NEVER not in (lt, rt) else t.NEVER
    if lt in t.NUMERIC and rt in t.NUMERIC:
        if op is n.BinOp.DIV:
            return t.FLOAT
        return t.INT if lt == rt == t.INT else t.FLOAT
    if op is n.BinOp.ADD:
        if lt == rt == t.STRING:
            return t.STRING
        if isinstance(lt, t.ListOf) and isinstance(rt, t.ListOf):
            item = t.join(lt.item, rt.item)
            return t.ListOf(item if item is not None else t.ANY)
    return _ARITH_DURATION.get((op, lt, rt))


def _comparable(op: n.BinOp, lt: t.Type, rt: t.Type) -> bool:
    if t.ANY in (lt, rt) or t.NEVER in (lt, rt):
        return True
    if op in (n.BinOp.EQ, n.BinOp.NE):
        return t.join(lt, rt) is not None
    if op in (n.BinOp.IN, n.BinOp.NOT_IN):
        match rt:
            case t.ListOf(item=item):
                return t.join(lt, item) is not None
            case t.MapOf() | t.Record():
                return t.assignable(lt, t.STRING)
        return rt == t.STRING and lt == t.STRING
    if lt in t.NUMERIC and rt in t.NUMERIC:
        return True
    return lt == rt and lt in (t.STRING, t.DURATION)
