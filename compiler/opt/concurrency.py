"""Pass ``concurrency-levels`` (-O2): run adjacent independent pure steps together.

In every sequential list of nodes, a maximal run of adjacent pure steps in which no step reads
another of the run becomes one :class:`~..ir.Concurrent` node (when it holds two or more
steps).  Steps with an ``@on_error`` jump, and jump targets, stay sequential.  Only pure steps
are grouped, so the order in which they run cannot be observed.
"""

from __future__ import annotations

import dataclasses

from .. import ir
from .walk import map_bodies


def _groupable(step: ir.Step, targets: set[str]) -> bool:
    return step.pure and step.on_error in ("fail", "continue") and step.id not in targets


def concurrency_flow(flow: ir.Flow) -> ir.Flow:
    targets = {s.on_error for s in ir.iter_steps(flow.body)}

    def group(body: tuple[ir.Node, ...]) -> tuple[ir.Node, ...]:
        out: list[ir.Node] = []
        run: list[ir.Step] = []

        def close() -> None:
            if len(run) >= 2:
                first = run[0]
                out.append(ir.Concurrent(id=f"concurrent@{first.span.line}:{first.span.column}",
                                         steps=tuple(run), span=first.span))
            else:
                out.extend(run)
            run.clear()

        for node in body:
            if isinstance(node, ir.Step) and _groupable(node, targets):
                if any(node.deps & {s.id} for s in run):
                    close()
                run.append(node)
                continue
            close()
            out.append(node)
        close()
        return tuple(out)

    return dataclasses.replace(flow, body=map_bodies(flow.body, group))
