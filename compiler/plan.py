"""``tmc plan``: the execution structure of each workflow, from the optimized IR.

Role: for every step, its guard (the conjunction of the enclosing ``when`` conditions, negated
in an ``else``), its scope (the enclosing block ids), its data dependencies, and its
concurrency level; for the flow, the levels, the critical path and counts of constructs.

Levels model how early a step *could* start (docs/cli.md, "tmc plan"): a step waits for

- its data dependencies (the steps its arguments and options read),
- the steps the conditions of its enclosing ``when`` blocks and ``for`` lists read,
- the non-pure steps before it in its sequence (side effects keep their order; a ``parallel``
  block's branches are separate sequences that join after the block, a ``when`` block's
  branches join after it, and a ``for`` body counts as one iteration),
- the steps whose ``@on_error`` jumps to it.

Its level is one more than the highest level among those (1 when it waits for nothing); the
critical path is the highest level.  Pure steps run in parallel with each other (two pure steps
never wait for one another unless one reads the other), but not ahead of a side effect before
them.

Input: IR flows.  Output: :class:`FlowPlan` values, and their text and JSON renderings.
Invariant: every list is in document order (no set iteration order leaks out).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import ir
from .ir_dump import expr_text


@dataclass(frozen=True, slots=True)
class StepPlan:
    id: str
    kind: str
    line: int
    column: int
    pure: bool
    guard: str | None
    """The conditions the step runs under, joined with ``and``; None when unconditional."""
    scope: tuple[str, ...]
    """Ids of the enclosing blocks, outermost first."""
    deps: tuple[str, ...]
    """Steps its arguments and options read (data edges)."""
    guard_deps: tuple[str, ...]
    """Steps read by the conditions and ``for`` lists it runs under."""
    after: tuple[str, ...]
    """Non-pure steps before it in its sequence (ordering edges)."""
    jumps_from: tuple[str, ...]
    """Steps whose ``@on_error`` jumps to it."""
    level: int

    def waits_for(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for group in (self.deps, self.guard_deps, self.after, self.jumps_from):
            for step_id in group:
                seen.setdefault(step_id, None)
        return tuple(seen)


@dataclass(slots=True)
class FlowPlan:
    id: str
    source: str
    steps: list[StepPlan] = field(default_factory=list)
    levels: list[list[str]] = field(default_factory=list)
    critical_path: int = 0
    counts: dict[str, int] = field(default_factory=dict)


class _Planner:
    def __init__(self, flow: ir.Flow) -> None:
        self.flow = flow
        self.order = {step.id: index for index, step in enumerate(ir.iter_steps(flow.body))}
        self.jumps: dict[str, list[str]] = {}
        for step in ir.iter_steps(flow.body):
            if step.on_error not in ("fail", "continue"):
                self.jumps.setdefault(step.on_error, []).append(step.id)
        self.plan = FlowPlan(flow.id, flow.path)
        self.levels: dict[str, int] = {}
        self.counts = {"steps": 0, "branches": 0, "loops": 0, "parallel": 0, "concurrent": 0}

    def sorted(self, ids: set[str] | frozenset[str]) -> tuple[str, ...]:
        if not ids:
            return ()
        order = self.order
        return tuple(sorted((i for i in ids if i in order), key=order.__getitem__))

    def reads(self, expr: ir.Expr) -> frozenset[str]:
        return frozenset(s for s in ir.step_reads(expr) if s in self.order)

    def walk(self, nodes: tuple[ir.Node, ...], frontier: frozenset[str], guard: tuple[str, ...],
             guard_deps: frozenset[str], scope: tuple[str, ...]) -> frozenset[str]:
        for node in nodes:
            match node:
                case ir.Step():
                    self.step(node, frontier, guard, guard_deps, scope)
                    if not node.pure:
                        frontier = frozenset({node.id})
                case ir.Concurrent(steps=steps):
                    self.counts["concurrent"] += 1
                    for step in steps:
                        self.step(step, frontier, guard, guard_deps, scope)
                    impure = {s.id for s in steps if not s.pure}
                    frontier = frozenset(impure) if impure else frontier
                case ir.When(cond=cond, then=then, orelse=orelse):
                    self.counts["branches"] += 1
                    text = expr_text(cond)
                    inner_deps = guard_deps | self.reads(cond)
                    out = self.walk(then, frontier, (*guard, text), inner_deps,
                                    (*scope, node.id))
                    if orelse is not None:
                        else_id = f"else@{node.else_span.line}:{node.else_span.column}"
                        out |= self.walk(orelse, frontier, (*guard, f"not {text}"), inner_deps,
                                         (*scope, else_id))
                    else:
                        out |= frontier
                    frontier = out
                case ir.Parallel(branches=branches):
                    self.counts["parallel"] += 1
                    joined = frozenset[str]()
                    for branch in branches:
                        joined |= self.walk((branch,), frontier, guard, guard_deps,
                                            (*scope, node.id))
                    frontier = joined or frontier
                case ir.For(iter=iterable, body=body):
                    self.counts["loops"] += 1
                    frontier = self.walk(body, frontier, guard, guard_deps | self.reads(iterable),
                                         (*scope, node.id))
        return frontier

    def step(self, step: ir.Step, frontier: frozenset[str], guard: tuple[str, ...],
             guard_deps: frozenset[str], scope: tuple[str, ...]) -> None:
        self.counts["steps"] += 1
        deps = self.sorted(step.deps - {step.id})
        guard_ids = self.sorted(guard_deps - {step.id})
        after = self.sorted(frontier - {step.id})
        jumps = self.sorted(frozenset(self.jumps.get(step.id, ())))
        levels = self.levels
        level = 1 + max((levels.get(p, 0) for group in (deps, guard_ids, after, jumps)
                         for p in group), default=0)
        levels[step.id] = level
        self.plan.steps.append(StepPlan(
            id=step.id, kind=step.kind, line=step.span.line, column=step.span.column,
            pure=step.pure, guard=" and ".join(guard) if guard else None, scope=scope,
            deps=deps, guard_deps=guard_ids, after=after, jumps_from=jumps, level=level,
        ))


def plan_flow(flow: ir.Flow) -> FlowPlan:
    """The plan of one flow."""
    planner = _Planner(flow)
    planner.walk(flow.body, frozenset(), (), frozenset(), ())
    plan = planner.plan
    by_level: dict[int, list[str]] = {}
    for step in plan.steps:
        by_level.setdefault(step.level, []).append(step.id)
    plan.levels = [by_level[level] for level in sorted(by_level)]
    plan.critical_path = max(by_level, default=0)
    plan.counts = planner.counts
    return plan


# ---------------------------------------------------------------------------------------------
# Rendering


def plan_json(plans: list[FlowPlan]) -> dict[str, Any]:
    return {"flows": [{
        "id": p.id, "source": p.source, "counts": p.counts, "critical_path": p.critical_path,
        "levels": p.levels,
        "steps": [{
            "id": s.id, "kind": s.kind, "line": s.line, "column": s.column, "pure": s.pure,
            "guard": s.guard, "scope": list(s.scope), "deps": list(s.deps),
            "guard_deps": list(s.guard_deps), "after": list(s.after),
            "jumps_from": list(s.jumps_from), "level": s.level,
        } for s in p.steps],
    } for p in plans]}


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else plural or word + 's'}"


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  " + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip()
            for row in rows]


def plan_text(plans: list[FlowPlan]) -> str:
    out: list[str] = []
    for p in plans:
        if out:
            out.append("")
        c = p.counts
        out.append(f"flow {p.id}  ({p.source})")
        summary = [_plural(c["steps"], "step"), _plural(c["branches"], "branch", "branches"),
                   _plural(c["loops"], "loop"), _plural(c["parallel"], "parallel block")]
        if c["concurrent"]:
            summary.append(_plural(c["concurrent"], "concurrent group"))
        out.append(f"  {', '.join(summary)}; critical path {_plural(p.critical_path, 'step')}")
        for level, ids in enumerate(p.levels, start=1):
            out.append(f"  level {level}: {', '.join(ids)}")
        if p.steps:
            rows = [["step", "kind", "level", "pure", "waits for", "scope", "guard"]]
            for s in p.steps:
                rows.append([s.id, s.kind, str(s.level), "yes" if s.pure else "no",
                             ",".join(s.waits_for()) or "-", "/".join(s.scope) or "-",
                             s.guard or "-"])
            out.extend(_table(rows))
    return "\n".join(out) + "\n"
