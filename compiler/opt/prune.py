"""Pass ``prune-unused-pure-steps`` (-O2): remove pure steps whose result nothing reads.

A step is removable when its kind is declared pure in its signature, no expression of the flow
(arguments, conditions, ``for`` lists, options, outputs) reads it, and no ``@on_error`` jumps to
it.  Removing one can make another unused, so the pass runs to a fixed point.  A removed step's
id stays in ``Flow.step_ids``.  Pure steps cannot fail in a way the flow observes other than by
their result, so no run-time error moves earlier.
"""

from __future__ import annotations

import dataclasses

from .. import ir
from .walk import map_bodies


def _reads(flow: ir.Flow) -> set[str]:
    read: set[str] = set()
    for node in ir.iter_nodes(flow.body):
        for expr in ir.node_exprs(node):
            read |= ir.step_reads(expr)
    for _, expr in flow.outputs:
        read |= ir.step_reads(expr)
    return read


def _without(body: tuple[ir.Node, ...], keep: set[str]) -> tuple[tuple[ir.Node, ...], bool]:
    removed = False

    def drop(nodes: tuple[ir.Node, ...]) -> tuple[ir.Node, ...]:
        nonlocal removed
        out: list[ir.Node] = []
        for node in nodes:
            if isinstance(node, ir.Step) and node.pure and node.id not in keep:
                removed = True
                continue
            out.append(node)
        return tuple(out)

    return map_bodies(body, drop), removed


def prune_flow(flow: ir.Flow) -> ir.Flow:
    while True:
        keep = _reads(flow) | {s.on_error for s in ir.iter_steps(flow.body)}
        body, removed = _without(flow.body, keep)
        if not removed:
            return flow
        flow = dataclasses.replace(flow, body=body)
