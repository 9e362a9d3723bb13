"""Expressions: typed IR -> Python source text (docs/internals.md, "Expression semantics").

Role: compile one :class:`~..ir.Expr` to a Python expression over the generated function's
locals: ``$input.x`` -> ``i_x``, ``$step.a`` -> ``s_a``, a PDL variable or ``for`` variable ->
``v_x``, a parameter -> ``p_x``, ``arms.active.f`` -> ``arm['f']``, ``arms.n.f`` ->
``ARMS['n']['f']``, ``.f`` and ``[k]`` -> subscription, ``coalesce(a, b)`` ->
``rt_coalesce(lambda: a, lambda: b)``, a builtin ``f(x)`` -> ``b_f(x)`` (``b_random(rng, ...)``
in policies); operators map to Python's.

Input: IR expressions.  Output: source text with the fewest parentheses Python's precedence
allows (comparisons never chain: a comparison operand that is itself a comparison is
parenthesised), and, in :attr:`ExprCompiler.used`, the ABI names and the inputs and parameters
the text reads.

Invariants: every literal goes through :mod:`.literal`; every name is mangled; a builtin name
is checked against the builtin table and the identifier pattern.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ...stdlib.builtins import BUILTINS
from .. import ir
from ..nodes import BinOp, UnaryOp
from ..source import Span
from .literal import IDENTIFIER, UnsafeValue, mangle, py_literal, py_str
from .writer import WIDTH, Writer


class CodegenError(Exception):
    """A construct that checks but cannot be compiled; reported as TM0412 at ``span``."""

    def __init__(self, span: Span, message: str, path: str = "") -> None:
        super().__init__(message)
        self.span = span
        self.message = message
        self.path = path
        """The source path, filled in by the caller that knows it."""


# Python precedence levels, lowest first.
LAMBDA, COND, OR, AND, NOT, CMP, ADD, MUL, NEG, POSTFIX, ATOM = range(11)

_BINARY: Mapping[BinOp, tuple[str, int]] = {
    BinOp.OR: ("or", OR),
    BinOp.AND: ("and", AND),
    BinOp.EQ: ("==", CMP),
    BinOp.NE: ("!=", CMP),
    BinOp.LT: ("<", CMP),
    BinOp.LE: ("<=", CMP),
    BinOp.GT: (">", CMP),
    BinOp.GE: (">=", CMP),
    BinOp.IN: ("in", CMP),
    BinOp.NOT_IN: ("not in", CMP),
    BinOp.ADD: ("+", ADD),
    BinOp.SUB: ("-", ADD),
    BinOp.MUL: ("*", MUL),
    BinOp.DIV: ("/", MUL),
    BinOp.FLOORDIV: ("//", MUL),
    BinOp.MOD: ("%", MUL),
}


def _const_precedence(text: str) -> int:
    return NEG if text.startswith("-") else ATOM


class ExprCompiler:
    """Compiles the expressions of one generated function.

    ``variables`` maps a ``for`` variable to the Python name it has at this point (an inner
    ``for`` reusing an outer variable's name gets a distinct local).  ``rng`` is the name of
    the decision's random source, or None in flows (where ``random`` cannot be compiled).
    """

    def __init__(self, *, rng: str | None = None) -> None:
        self.rng = rng
        self.variables: dict[str, str] = {}
        self.used: set[str] = set()
        """ABI names the compiled text uses."""
        self.inputs: set[str] = set()
        self.params: set[str] = set()
        self._handlers: dict[type[ir.Expr], Callable[[ir.Expr], tuple[str, int]]] = {
            ir.Const: self._const,
            ir.InputRef: self._input,
            ir.StepRef: self._step,
            ir.VarRef: self._var,
            ir.ParamRef: self._param,
            ir.ArmField: self._arm,
            ir.Field: self._field,
            ir.Index: self._index,
            ir.Call: self._call,
            ir.Coalesce: self._coalesce,
            ir.Unary: self._unary,
            ir.Binary: self._binary,
            ir.Cond: self._cond,
            ir.ListExpr: self._list,
            ir.RecordExpr: self._record,
        }

    def compile(self, expr: ir.Expr) -> str:
        """Python source for ``expr``."""
        return self._emit(expr)[0]

    def _emit(self, expr: ir.Expr) -> tuple[str, int]:
        handler = self._handlers.get(type(expr))
        if handler is None:  # pragma: no cover - the IR has no other expression classes
            raise CodegenError(expr.span, f"no code for {type(expr).__name__}")
        try:
            return handler(expr)
        except UnsafeValue as exc:
            raise CodegenError(expr.span, str(exc)) from None

    def _at_least(self, expr: ir.Expr, level: int) -> str:
        text, precedence = self._emit(expr)
        return text if precedence >= level else f"({text})"

    # -- leaves -----------------------------------------------------------------------------

    def _const(self, expr: ir.Expr) -> tuple[str, int]:
        assert isinstance(expr, ir.Const)
        text = py_literal(expr.value)
        return text, _const_precedence(text)

    def _input(self, expr: ir.Expr) -> tuple[str, int]:
        assert isinstance(expr, ir.InputRef)
        self.inputs.add(expr.name)
        return mangle("input", expr.name), ATOM

    def _step(self, expr: ir.Expr) -> tuple[str, int]:
        assert isinstance(expr, ir.StepRef)
        return mangle("step", expr.step), ATOM

    def _var(self, expr: ir.Expr) -> tuple[str, int]:
        assert isinstance(expr, ir.VarRef)
        name = self.variables.get(expr.name)
        return (name if name is not None else mangle("var", expr.name)), ATOM

    def _param(self, expr: ir.Expr) -> tuple[str, int]:
        assert isinstance(expr, ir.ParamRef)
        self.params.add(expr.name)
        return mangle("param", expr.name), ATOM

    def _arm(self, expr: ir.Expr) -> tuple[str, int]:
        assert isinstance(expr, ir.ArmField)
        if expr.arm is None:
            return f"arm[{py_str(expr.field_name)}]", POSTFIX
        return f"ARMS[{py_str(expr.arm)}][{py_str(expr.field_name)}]", POSTFIX

    # -- compound ---------------------------------------------------------------------------

    def _field(self, expr: ir.Expr) -> tuple[str, int]:
        assert isinstance(expr, ir.Field)
        return f"{self._at_least(expr.obj, POSTFIX)}[{py_str(expr.name)}]", POSTFIX

    def _index(self, expr: ir.Expr) -> tuple[str, int]:
        assert isinstance(expr, ir.Index)
        return f"{self._at_least(expr.obj, POSTFIX)}[{self.compile(expr.index)}]", POSTFIX

    def _call(self, expr: ir.Expr) -> tuple[str, int]:
        assert isinstance(expr, ir.Call)
        func = expr.func
        if func not in BUILTINS or func == "coalesce" or IDENTIFIER.fullmatch(func) is None:
            raise CodegenError(expr.span, f"unknown builtin `{func}`")
        args = [self._at_least(a, COND) for a in expr.args]
        if func == "random":
            if self.rng is None:
                raise CodegenError(expr.span, "`random` draws from a policy decision's seeded "
                                   "generator; a workflow has none (move the draw into a policy)")
            args.insert(0, self.rng)
        name = f"b_{func}"
        self.used.add(name)
        return f"{name}({', '.join(args)})", POSTFIX

    def _coalesce(self, expr: ir.Expr) -> tuple[str, int]:
        assert isinstance(expr, ir.Coalesce)
        self.used.add("rt_coalesce")
        thunks = ", ".join(f"lambda: {self._at_least(a, COND)}" for a in expr.args)
        return f"rt_coalesce({thunks})", POSTFIX

    def _unary(self, expr: ir.Expr) -> tuple[str, int]:
        assert isinstance(expr, ir.Unary)
        if expr.op is UnaryOp.NOT:
            return f"not {self._at_least(expr.operand, NOT)}", NOT
        return f"-{self._at_least(expr.operand, POSTFIX)}", NEG

    def _binary(self, expr: ir.Expr) -> tuple[str, int]:
        assert isinstance(expr, ir.Binary)
        symbol, level = _BINARY[expr.op]
        if level == CMP:  # comparisons chain in Python: never let an operand be one
            left = self._at_least(expr.left, CMP + 1)
        else:
            left = self._at_least(expr.left, level)
        right = self._at_least(expr.right, level + 1)
        return f"{left} {symbol} {right}", level

    def _cond(self, expr: ir.Expr) -> tuple[str, int]:
        assert isinstance(expr, ir.Cond)
        then = self._at_least(expr.then, OR)
        cond = self._at_least(expr.cond, OR)
        otherwise = self._at_least(expr.otherwise, COND)
        return f"{then} if {cond} else {otherwise}", COND

    def _list(self, expr: ir.Expr) -> tuple[str, int]:
        assert isinstance(expr, ir.ListExpr)
        return "[" + ", ".join(self._at_least(i, COND) for i in expr.items) + "]", ATOM

    def _record(self, expr: ir.Expr) -> tuple[str, int]:
        assert isinstance(expr, ir.RecordExpr)
        entries = ", ".join(f"{py_str(k)}: {self._at_least(v, COND)}" for k, v in expr.entries)
        return "{" + entries + "}", ATOM


def write_record_return(
    w: Writer, x: ExprCompiler, fields: tuple[tuple[str, ir.Expr], ...]
) -> None:
    """``return {...}`` of a flow's outputs or a policy's emit record: one line when it is a
    single short field, else one line per field (each mapped to its source expression)."""
    entries = [(f"{py_str(name)}: {x.compile(expr)}", expr.span) for name, expr in fields]
    one_line = "return {" + ", ".join(text for text, _ in entries) + "}"
    if len(entries) <= 1 and 4 * w.depth + len(one_line) <= WIDTH:
        w.line(one_line, entries[0][1] if entries else None)
        return
    w.line("return {")
    w.depth += 1
    for text, span in entries:
        w.line(text + ",", span)
    w.depth -= 1
    w.line("}")
