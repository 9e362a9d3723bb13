"""The intermediate representation between the checked AST and generated code.

Input: produced by ``lower`` from checked documents.  Output: consumed by the optimizer passes
(``opt``), the planner and graph export, and code generation.

Workflows are a tree of blocks over steps (:class:`Flow`), with every step's data edges
(``deps``: the steps whose results its arguments read) and its guard (the ``when`` conditions
it runs under) explicit, so the same IR serves as a DAG for planning.  Policies are structured
statements over typed expressions (:class:`PolicyIR`).  Every expression carries its type and
source span; names are resolved (a read of ``$input.x`` is :class:`InputRef`, of a PDL
parameter :class:`ParamRef`, ...), so later stages never look names up again.

Nodes are frozen dataclasses; passes build new trees.  Durations are float seconds here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from . import types as t
from .nodes import BinOp, UnaryOp
from .source import NO_SPAN, Span

Json = None | bool | int | float | str | list["Json"] | dict[str, "Json"]

# ---------------------------------------------------------------------------------------------
# Expressions


@dataclass(frozen=True, slots=True, kw_only=True)
class Expr:
    type: t.Type = field(default=t.ANY, compare=False)
    span: Span = field(default=NO_SPAN, compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Const(Expr):
    """A constant: a literal or a folded value (JSON-like; durations in seconds)."""

    value: Json


@dataclass(frozen=True, slots=True, kw_only=True)
class InputRef(Expr):
    """``$input.<name>`` in a workflow, or a declared policy input (``values``)."""

    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class StepRef(Expr):
    """``$step.<id>``: the step's result record (a list of them after a ``for`` block)."""

    step: str


@dataclass(frozen=True, slots=True, kw_only=True)
class VarRef(Expr):
    """A PDL local variable or a WDL ``for`` variable."""

    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ParamRef(Expr):
    """A top-level PDL parameter (``epsilon``)."""

    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ArmField(Expr):
    """``arms.active.<field>`` (``arm`` is None) or ``arms.<arm>.<field>``."""

    arm: str | None
    field_name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Field(Expr):
    """``obj.name`` on a record or a map."""

    obj: Expr
    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Index(Expr):
    obj: Expr
    index: Expr


@dataclass(frozen=True, slots=True, kw_only=True)
class Call(Expr):
    """A builtin call (``coalesce`` is :class:`Coalesce`)."""

    func: str
    args: tuple[Expr, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Coalesce(Expr):
    """The first argument that is present: missing keys, missing steps and null are absent."""

    args: tuple[Expr, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Unary(Expr):
    op: UnaryOp
    operand: Expr


@dataclass(frozen=True, slots=True, kw_only=True)
class Binary(Expr):
    op: BinOp
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True, kw_only=True)
class Cond(Expr):
    cond: Expr
    then: Expr
    otherwise: Expr


@dataclass(frozen=True, slots=True, kw_only=True)
class ListExpr(Expr):
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordExpr(Expr):
    entries: tuple[tuple[str, Expr], ...]


# ---------------------------------------------------------------------------------------------
# Workflows


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    attempts: int
    backoff: float
    factor: float = 2.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Node:
    """A workflow node; ``id`` is unique in the flow (blocks get ``<kind>@<line>:<col>``)."""

    id: str
    span: Span = field(default=NO_SPAN, compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Step(Node):
    kind: str
    args: tuple[tuple[str, Expr], ...]
    pure: bool = False
    timeout: Expr | None = None
    retry: Expr | None = None
    on_error: str = "fail"
    deps: frozenset[str] = frozenset()
    """Ids of the steps whose results the arguments read (explicit data edges)."""
    policy: str | None = None
    """The bound policy of a ``policy.apply`` step."""
    flow: str | None = None
    """The called workflow of a ``flow.call`` step."""
    result: t.Type = field(default=t.ANY, compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class When(Node):
    cond: Expr
    then: tuple[Node, ...]
    orelse: tuple[Node, ...] | None = None
    else_span: Span = field(default=NO_SPAN, compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Parallel(Node):
    """``parallel:``: every child node is one branch; the block ends when all have ended."""

    branches: tuple[Node, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class For(Node):
    var: str
    iter: Expr
    body: tuple[Node, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Concurrent(Node):
    """Adjacent pure steps with no edges between them, run together (made by the optimizer)."""

    steps: tuple[Step, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Input:
    name: str
    type: t.Type
    default: Json = None
    has_default: bool = False
    span: Span = field(default=NO_SPAN, compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Flow:
    id: str
    path: str
    version: str
    description: str | None
    inputs: tuple[Input, ...]
    body: tuple[Node, ...]
    outputs: tuple[tuple[str, Expr], ...]
    output_type: t.Record
    triggers: dict[str, Json]
    step_ids: tuple[str, ...]
    """Every step id of the source in document order (also those a pass removed)."""


# ---------------------------------------------------------------------------------------------
# Policies


@dataclass(frozen=True, slots=True, kw_only=True)
class PStmt:
    span: Span = field(default=NO_SPAN, compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Assign(PStmt):
    target: str
    value: Expr


@dataclass(frozen=True, slots=True, kw_only=True)
class If(PStmt):
    branches: tuple[tuple[Expr, tuple[PStmt, ...]], ...]
    orelse: tuple[PStmt, ...] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Option:
    name: str
    value: Expr
    prob: Expr | None
    span: Span = field(default=NO_SPAN, compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Choose(PStmt):
    """One draw picks an option; every option assigns ``target`` (language.md section 6)."""

    id: str
    target: str
    options: tuple[Option, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyIR:
    id: str
    path: str
    version: str
    description: str | None
    inputs: tuple[Input, ...]
    arms: dict[str, dict[str, Json]]
    params: dict[str, Json]
    body: tuple[PStmt, ...]
    emit: tuple[tuple[str, Expr], ...]
    emit_type: t.Record


# ---------------------------------------------------------------------------------------------
# Walks (iterative: flows can hold 20,000 steps)


def iter_nodes(nodes: tuple[Node, ...]) -> Iterator[Node]:
    """Every node of a body, blocks included, in document order."""
    stack: list[Node] = list(reversed(nodes))
    while stack:
        node = stack.pop()
        yield node
        match node:
            case When(then=then, orelse=orelse):
                stack.extend(reversed((*then, *(orelse or ()))))
            case Parallel(branches=branches):
                stack.extend(reversed(branches))
            case For(body=body):
                stack.extend(reversed(body))
            case Concurrent(steps=steps):
                stack.extend(reversed(steps))


def iter_steps(nodes: tuple[Node, ...]) -> Iterator[Step]:
    for node in iter_nodes(nodes):
        if isinstance(node, Step):
            yield node


def iter_exprs(expr: Expr) -> Iterator[Expr]:
    """``expr`` and every expression below it."""
    stack = [expr]
    while stack:
        e = stack.pop()
        yield e
        match e:
            case Field(obj=obj):
                stack.append(obj)
            case Index(obj=obj, index=index):
                stack.extend((index, obj))
            case Call(args=args) | Coalesce(args=args):
                stack.extend(reversed(args))
            case Unary(operand=operand):
                stack.append(operand)
            case Binary(left=left, right=right):
                stack.extend((right, left))
            case Cond(cond=cond, then=then, otherwise=otherwise):
                stack.extend((otherwise, then, cond))
            case ListExpr(items=items):
                stack.extend(reversed(items))
            case RecordExpr(entries=entries):
                stack.extend(reversed([v for _, v in entries]))


def step_reads(expr: Expr) -> set[str]:
    """The step ids an expression reads."""
    return {e.step for e in iter_exprs(expr) if isinstance(e, StepRef)}


def node_exprs(node: Node) -> Iterator[Expr]:
    """The expressions a node evaluates itself (not those of nested nodes)."""
    match node:
        case Step(args=args, timeout=timeout, retry=retry):
            for _, value in args:
                yield value
            if timeout is not None:
                yield timeout
            if retry is not None:
                yield retry
        case When(cond=cond):
            yield cond
        case For(iter=iterable):
            yield iterable
