"""Branch tracing over the IR JSON of a bundle: which branches a run or a decision took.

Role: ``tm test`` reports branch coverage of the ``.wdl``/``.pdl`` sources.  Generated code has
no branch markers (adding a hook would change the ABI), so coverage is computed from what a
bundle already holds: its IR (``ir/*.json``).

- Policies: :func:`trace_policy` interprets the policy's IR statements over the same inputs,
  arm, parameters and seed as the generated ``decide``, recording each ``if`` branch and
  ``choose`` option taken.  It draws from a :class:`~.abi.DecisionRng` with the same seed and
  calls the same ABI functions in the same order, so its draws and output equal the generated
  code's; callers compare the output to the decision and treat a mismatch as a failure.
- Flows: :func:`flow_branches_taken` reads the run's spans: a ``when``/``else`` block span
  exists exactly for a branch taken; a ``when`` without ``else`` took its implicit else when the
  block around it was entered more often than the ``when`` block was.

Input: IR JSON (``tracemind-ir``), inputs, spans.  Output: branch ids (see
:func:`branch_universe`): ``when@L:C/then``, ``when@L:C/else``, ``if@L:C#K`` (K from 1),
``if@L:C#else``, ``choose@L:C/<option>``.

Invariants: this module never imports the compiler; it reads only the IR JSON format written
by ``tracemind.compiler.codegen.ir_json``.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import abi
from .abi import DecisionRng, rt_choose, rt_coalesce
from .determinism import json_floats
from .spans import Span

IRNode = Mapping[str, Any]

_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
    ">": operator.gt, ">=": operator.ge, "+": operator.add, "-": operator.sub,
    "*": operator.mul, "/": operator.truediv, "//": operator.floordiv, "%": operator.mod,
    "in": lambda a, b: a in b, "not in": lambda a, b: a not in b,
}


@dataclass(frozen=True, slots=True)
class Branch:
    """One branch of a source: its id, source path, position and a short description."""

    id: str
    path: str
    line: int
    column: int
    label: str

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "path": self.path, "line": self.line, "column": self.column,
                "label": self.label}


# ---------------------------------------------------------------------------------------------
# The branches of a source


def _at(node: IRNode, key: str = "at") -> tuple[int, int]:
    at = node.get(key) or [0, 0]
    return int(at[0]), int(at[1])


def branch_universe(document: IRNode) -> list[Branch]:
    """Every branch of a flow's or policy's IR, in document order."""
    path = str(document.get("path", ""))
    out: list[Branch] = []
    if document.get("document") == "flow":
        for node in _flow_nodes(document.get("body", [])):
            if node.get("node") != "when":
                continue
            line, col = _at(node)
            out.append(Branch(f"{node['id']}/then", path, line, col, "when: condition true"))
            where = _at(node, "else_at") if node.get("else") is not None else (line, col)
            out.append(Branch(f"{node['id']}/else", path, where[0], where[1],
                              "when: condition false" + (" (else)" if node.get("else")
                                                         is not None else "")))
        return out
    for stmt in _policy_stmts(document.get("body", [])):
        line, col = _at(stmt)
        if stmt.get("node") == "if":
            base = f"if@{line}:{col}"
            for k, branch in enumerate(stmt.get("branches", []), start=1):
                cl, cc = _at(branch["cond"])
                word = "if" if k == 1 else "elif"
                out.append(Branch(f"{base}#{k}", path, cl, cc, f"{word} branch {k} taken"))
            out.append(Branch(f"{base}#else", path, line, col,
                              "else taken" if stmt.get("else") is not None
                              else "no branch taken (implicit else)"))
        elif stmt.get("node") == "choose":
            for option in stmt.get("options", []):
                ol, oc = _at(option)
                out.append(Branch(f"{stmt['id']}/{option['name']}", path, ol, oc,
                                  f"choose option `{option['name']}`"))
    return out


def _flow_nodes(body: Iterable[IRNode]) -> Iterator[IRNode]:
    stack = list(reversed(list(body)))
    while stack:
        node = stack.pop()
        yield node
        children: list[IRNode] = []
        match node.get("node"):
            case "when":
                children = [*node.get("then", []), *(node.get("else") or [])]
            case "parallel":
                children = list(node.get("branches", []))
            case "for":
                children = list(node.get("body", []))
            case "concurrent":
                children = list(node.get("steps", []))
        stack.extend(reversed(children))


def _policy_stmts(body: Iterable[IRNode]) -> Iterator[IRNode]:
    stack = list(reversed(list(body)))
    while stack:
        stmt = stack.pop()
        yield stmt
        if stmt.get("node") == "if":
            children = [s for b in stmt.get("branches", []) for s in b.get("body", [])]
            children += list(stmt.get("else") or [])
            stack.extend(reversed(children))


# ---------------------------------------------------------------------------------------------
# Flows: branches from spans


def flow_branches_taken(document: IRNode, spans: Sequence[Span], succeeded: bool) -> set[str]:
    """The branch ids a flow run took, from its spans (see the module docstring)."""
    blocks: dict[str, int] = {}
    steps: dict[str, int] = {}
    for span in spans:
        if span.type == "block":
            blocks[span.id] = blocks.get(span.id, 0) + 1
        elif span.status != "skipped":
            steps[span.id] = steps.get(span.id, 0) + 1
    taken: set[str] = set()

    def iterations(loop: IRNode) -> int:
        direct = [steps.get(str(n["id"]), 0) for n in loop.get("body", [])
                  if n.get("node") == "step"]
        return max(direct) if direct else blocks.get(str(loop["id"]), 0)

    def walk(body: Sequence[IRNode], entered: int) -> None:
        """``entered``: how many times the run entered ``body``."""
        for index, node in enumerate(body):
            kind = node.get("node")
            if kind == "when":
                then_count = blocks.get(str(node["id"]), 0)
                if then_count:
                    taken.add(f"{node['id']}/then")
                if node.get("else") is not None:
                    line, col = _at(node, "else_at")
                    else_count = blocks.get(f"else@{line}:{col}", 0)
                    if else_count:
                        taken.add(f"{node['id']}/else")
                    walk(node["else"], else_count)
                elif entered > then_count and _reached(body[index + 1:], steps, blocks,
                                                       succeeded):
                    taken.add(f"{node['id']}/else")
                walk(node.get("then", []), then_count)
            elif kind == "parallel":
                walk(node.get("branches", []), blocks.get(str(node["id"]), 0))
            elif kind == "for":
                walk(node.get("body", []), iterations(node))

    walk(document.get("body", []), 1)
    return taken


def _reached(rest: Sequence[IRNode], steps: Mapping[str, int], blocks: Mapping[str, int],
             succeeded: bool) -> bool:
    """Whether the run got past a node: it succeeded, or a later sibling ran."""
    if succeeded:
        return True
    return any(steps.get(str(n.get("id")), 0) or blocks.get(str(n.get("id")), 0)
               for n in _flow_nodes(rest))


# ---------------------------------------------------------------------------------------------
# Policies: an interpreter of the IR statements


@dataclass(slots=True)
class PolicyTrace:
    """What :func:`trace_policy` computed: the output record, the draws and branches taken."""

    output: dict[str, Any] | None
    draws: list[tuple[str, Any]]
    branches: list[str]
    error: str | None = None
    """The exception the policy's expressions raised (then ``output`` is None)."""


class _Interpreter:
    def __init__(self, inputs: Mapping[str, Any], arm: Mapping[str, Any],
                 arms: Mapping[str, Mapping[str, Any]], params: Mapping[str, Any],
                 rng: DecisionRng) -> None:
        self.inputs = inputs
        self.arm = arm
        self.arms = arms
        self.params = params
        self.rng = rng
        self.variables: dict[str, Any] = {}
        self.branches: list[str] = []

    def run(self, body: Sequence[IRNode]) -> None:
        for stmt in body:
            kind = stmt.get("node")
            if kind == "assign":
                self.variables[str(stmt["target"])] = self.expr(stmt["value"])
            elif kind == "if":
                line, col = _at(stmt)
                for k, branch in enumerate(stmt.get("branches", []), start=1):
                    if self.expr(branch["cond"]):
                        self.branches.append(f"if@{line}:{col}#{k}")
                        self.run(branch.get("body", []))
                        break
                else:
                    self.branches.append(f"if@{line}:{col}#else")
                    self.run(stmt.get("else") or [])
            elif kind == "choose":
                options = stmt.get("options", [])
                probs = [self.expr(o["prob"]) if o.get("prob") is not None else None
                         for o in options]
                index = rt_choose(self.rng, str(stmt["id"]), probs)
                self.branches.append(f"{stmt['id']}/{options[index]['name']}")
                self.variables[str(stmt["target"])] = self.expr(options[index]["value"])
            else:
                raise ValueError(f"unknown policy statement {kind!r}")

    def expr(self, e: IRNode) -> Any:
        match e["op"]:
            case "const":
                return json_floats(e["value"])
            case "input":
                return self.inputs[e["name"]]
            case "var":
                return self.variables[e["name"]]
            case "param":
                return self.params[e["name"]]
            case "arm":
                arm = self.arm if e.get("arm") is None else self.arms[e["arm"]]
                return arm[e["field"]]
            case "field":
                return self.expr(e["obj"])[e["name"]]
            case "index":
                return self.expr(e["obj"])[self.expr(e["index"])]
            case "call":
                args = [self.expr(a) for a in e["args"]]
                func = getattr(abi, f"b_{e['func']}")
                return func(self.rng, *args) if e["func"] == "random" else func(*args)
            case "coalesce":
                return rt_coalesce(*[(lambda a=a: self.expr(a)) for a in e["args"]])
            case "unary":
                operand = self.expr(e["operand"])
                return (not operand) if e["operator"] == "not" else -operand
            case "binary":
                op = e["operator"]
                left = self.expr(e["left"])
                if op == "and":
                    return left and self.expr(e["right"])
                if op == "or":
                    return left or self.expr(e["right"])
                return _BINARY[op](left, self.expr(e["right"]))
            case "cond":
                return self.expr(e["then"]) if self.expr(e["cond"]) else self.expr(e["else"])
            case "list":
                return [self.expr(i) for i in e["items"]]
            case "record":
                return {str(k): self.expr(v) for k, v in e["entries"]}
        raise ValueError(f"unknown IR expression {e['op']!r}")


def trace_policy(document: IRNode, inputs: Mapping[str, Any], arm: Mapping[str, Any],
                 params: Mapping[str, Any], seed: int) -> PolicyTrace:
    """Interpret a policy's IR once; an error of its expressions ends the trace (``error``),
    keeping the branches taken before it."""
    rng = DecisionRng(seed)
    arms = document.get("arms") or {}
    interpreter = _Interpreter(inputs, arm, arms, params, rng)
    try:
        interpreter.run(document.get("body", []))
        output = {str(k): interpreter.expr(v) for k, v in document.get("emit", [])}
    except Exception as exc:
        return PolicyTrace(None, list(rng.draws), interpreter.branches, abi.describe(exc))
    return PolicyTrace(output, list(rng.draws), interpreter.branches)
