"""The typed AST of WDL workflows and PDL policies.

Nodes are values: frozen, slotted, keyword-only dataclasses.  ``span`` rides along on every
node but takes no part in equality, so two structurally equal trees compare equal whatever their
layout (``tmc fmt`` relies on it: the AST before and after formatting is equal).  Rewrites build
new nodes; nothing here is mutated after construction.

Three families of nodes:
- expressions (``Expr`` subclasses), shared by WDL bindings and conditions and all of PDL;
- data (``Data*``): YAML-flow literals of data fields (triggers, arms, parameters);
- types (``Type*``) of type fields (``inputs``).
Documents are :class:`Workflow` and :class:`Policy`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from .source import NO_SPAN, Span


@dataclass(frozen=True, slots=True, kw_only=True)
class Node:
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


# ---------------------------------------------------------------------------------------------
# Expressions


class BinOp(StrEnum):
    OR = "or"
    AND = "and"
    EQ = "=="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    IN = "in"
    NOT_IN = "not in"
    ADD = "+"
    SUB = "-"
    MUL = "*"
    DIV = "/"
    FLOORDIV = "//"
    MOD = "%"


class UnaryOp(StrEnum):
    NOT = "not"
    NEG = "-"


COMPARISONS = frozenset(
    {BinOp.EQ, BinOp.NE, BinOp.LT, BinOp.LE, BinOp.GT, BinOp.GE, BinOp.IN, BinOp.NOT_IN}
)


class LitKind(StrEnum):
    INT = "int"
    FLOAT = "float"
    STRING = "string"
    BOOL = "bool"
    NULL = "null"
    DURATION = "duration"


@dataclass(frozen=True, slots=True, kw_only=True)
class Expr(Node):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class Literal(Expr):
    """A literal value.  Durations hold milliseconds (``value``) and their source unit text."""

    kind: LitKind
    value: int | float | str | bool | None
    text: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Name(Expr):
    """A bare identifier: a PDL variable, parameter, ``values``, ``arms``, a ``for`` variable."""

    id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Ref(Expr):
    """``$input`` or ``$step`` (``root`` is ``"input"`` or ``"step"``); paths are postfix nodes."""

    root: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Attr(Expr):
    obj: Expr
    name: str
    name_span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Index(Expr):
    obj: Expr
    index: Expr


@dataclass(frozen=True, slots=True, kw_only=True)
class Call(Expr):
    """A builtin call; ``func`` is the builtin's name (calls are to the closed builtin set)."""

    func: str
    args: tuple[Expr, ...]
    func_span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Unary(Expr):
    op: UnaryOp
    operand: Expr


@dataclass(frozen=True, slots=True, kw_only=True)
class Binary(Expr):
    op: BinOp
    left: Expr
    right: Expr
    op_span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Conditional(Expr):
    """``then if cond else otherwise``."""

    cond: Expr
    then: Expr
    otherwise: Expr


@dataclass(frozen=True, slots=True, kw_only=True)
class ListExpr(Expr):
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class MapEntry(Node):
    key: str
    value: Expr
    key_span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class MapExpr(Expr):
    entries: tuple[MapEntry, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Invalid(Expr):
    """Stands where a value did not parse; its error is already reported.

    The checker types it as ``any`` without further diagnostics, so one bad value does not
    cascade into "missing argument" or "unknown step" errors elsewhere.  A document holding
    one never reaches code generation or the formatter.
    """


@dataclass(frozen=True, slots=True, kw_only=True)
class PlainString(Expr):
    """A v0 expression field that did not parse, taken as a plain string (warning TM0601)."""

    value: str


# ---------------------------------------------------------------------------------------------
# Data (YAML-flow literals, typed by the YAML 1.2 core schema)


@dataclass(frozen=True, slots=True, kw_only=True)
class Data(Node):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class DataScalar(Data):
    """``value`` is int, float, bool, None or str; ``quoted`` says the source used quotes."""

    value: int | float | str | bool | None
    quoted: bool = field(default=False, compare=False)
    text: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class DataEntry(Node):
    key: str
    value: Data
    key_span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class DataMap(Data):
    entries: tuple[DataEntry, ...]
    flow: bool = field(default=True, compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class DataList(Data):
    items: tuple[Data, ...]
    flow: bool = field(default=True, compare=False)


# ---------------------------------------------------------------------------------------------
# Types


@dataclass(frozen=True, slots=True, kw_only=True)
class TypeExpr(Node):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class NamedType(TypeExpr):
    """``string int float bool null duration any``."""

    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ListType(TypeExpr):
    item: TypeExpr


@dataclass(frozen=True, slots=True, kw_only=True)
class MapType(TypeExpr):
    value: TypeExpr


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordField(Node):
    name: str
    type: TypeExpr


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordType(TypeExpr):
    fields: tuple[RecordField, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class OptionalType(TypeExpr):
    inner: TypeExpr


# ---------------------------------------------------------------------------------------------
# Shared document parts


@dataclass(frozen=True, slots=True, kw_only=True)
class NameValue(Node):
    """A name field: a raw scalar, quoted or not (``workflow``, ``policy``, ``@on_error``...)."""

    value: str
    quoted: bool = field(default=False, compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class InputDecl(Node):
    name: str
    type: TypeExpr
    default: Expr | None = None
    name_span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Binding(Node):
    """``name: expr`` (step arguments, ``outputs``, ``emit``)."""

    name: str
    value: Expr
    name_span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Param(Node):
    """A data-valued ``name: literal`` (PDL parameters, arms, trigger sections)."""

    name: str
    value: Data
    name_span: Span = field(default=NO_SPAN, compare=False, repr=False)


# ---------------------------------------------------------------------------------------------
# WDL


@dataclass(frozen=True, slots=True, kw_only=True)
class StepOptions(Node):
    timeout: Expr | None = None
    retry: Expr | None = None
    on_error: NameValue | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Stmt(Node):
    """A steps item: :class:`Step`, :class:`When`, :class:`Parallel` or :class:`For`."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Step(Stmt):
    id: str
    kind: str
    args: tuple[Binding, ...]
    options: StepOptions = field(default_factory=StepOptions)
    id_span: Span = field(default=NO_SPAN, compare=False, repr=False)
    kind_span: Span = field(default=NO_SPAN, compare=False, repr=False)
    policy: NameValue | None = None
    flow: NameValue | None = None
    partial: bool = field(default=False, compare=False, repr=False)
    """The argument list did not parse (already reported): missing arguments are not errors."""


@dataclass(frozen=True, slots=True, kw_only=True)
class When(Stmt):
    cond: Expr
    body: tuple[Stmt, ...]
    orelse: tuple[Stmt, ...] | None = None
    else_span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Parallel(Stmt):
    body: tuple[Stmt, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class For(Stmt):
    var: str
    iter: Expr
    body: tuple[Stmt, ...]
    var_span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Workflow(Node):
    version: str
    name: str
    description: str | None
    triggers: tuple[Param, ...]
    inputs: tuple[InputDecl, ...]
    steps: tuple[Stmt, ...]
    outputs: tuple[Binding, ...]
    name_span: Span = field(default=NO_SPAN, compare=False, repr=False)
    version_span: Span = field(default=NO_SPAN, compare=False, repr=False)

    @property
    def v1(self) -> bool:
        return self.version.endswith("v1")


# ---------------------------------------------------------------------------------------------
# PDL


@dataclass(frozen=True, slots=True, kw_only=True)
class PStmt(Node):
    """A statement under ``evaluate:``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Assign(PStmt):
    target: str
    value: Expr
    walrus: bool = field(default=False, compare=False)
    target_span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class IfBranch(Node):
    cond: Expr
    body: tuple[PStmt, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class If(PStmt):
    """``if``/``elif`` branches in order, then an optional ``else`` body."""

    branches: tuple[IfBranch, ...]
    orelse: tuple[PStmt, ...] | None = None
    else_span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class ChooseOption(Node):
    """``name: target = expr with p = prob``; ``target`` is None for a bare expression."""

    name: str
    target: str | None
    value: Expr
    prob: Expr | None = None
    name_span: Span = field(default=NO_SPAN, compare=False, repr=False)
    target_span: Span = field(default=NO_SPAN, compare=False, repr=False)
    walrus: bool = field(default=False, compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Choose(PStmt):
    options: tuple[ChooseOption, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Arm(Node):
    name: str
    fields: tuple[DataEntry, ...]
    name_span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy(Node):
    version: str
    name: str
    name_explicit: bool
    inputs: tuple[InputDecl, ...]
    arms: tuple[Arm, ...]
    params: tuple[Param, ...]
    evaluate: tuple[PStmt, ...]
    emit: tuple[Binding, ...]
    description: str | None = None
    name_span: Span = field(default=NO_SPAN, compare=False, repr=False)
    version_span: Span = field(default=NO_SPAN, compare=False, repr=False)

    @property
    def v1(self) -> bool:
        return self.version.endswith("v1")


Document = Workflow | Policy
