"""``tmc graph``: a workflow as a graph (Graphviz DOT, JSON, or SVG through ``dot``).

Role: draw the steps of a flow as nodes inside nested clusters for its blocks (``when``,
``else``, ``parallel``, ``for``), with edges from :mod:`.plan`: ``data`` (a step reads
another's result), ``error`` (an ``@on_error`` jump), ``guard`` (a condition or ``for`` list it
runs under reads it) and ``order`` (a non-pure step before it in its sequence); one edge per
pair of steps, of the first kind in that order.

Input: an IR flow.  Output: DOT text, a JSON-compatible dict, or SVG bytes.

Invariants:
- DOT identifiers are generated (``n<index>``, ``cluster_<index>``); user text appears only in
  labels, written by :func:`dot_string`: a double-quoted string in which ``\\`` and ``"`` are
  escaped and a line break is ``\\n``.  :func:`dot_unescape` inverts it (Graphviz's rules for
  label strings), so every label round-trips.  Control characters other than line breaks and
  unpaired surrogates are shown as U+FFFD; long conditions are shortened with an ellipsis.
- Output is deterministic: nodes, clusters and edges come in document order.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from typing import Any

from . import ir
from .ir_dump import expr_text
from .plan import FlowPlan, plan_flow

MAX_LABEL = 60
EDGE_STYLES = {
    "data": "",
    "guard": ' [style=dashed, color="gray40"]',
    "order": ' [style=dotted, color="gray60"]',
    "error": ' [style=dashed, color="red", label="on error"]',
}


class GraphvizMissing(Exception):
    """``dot`` is not on PATH (SVG needs Graphviz)."""


_HIDDEN = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
"""Control characters but the line feed (Unicode category Cc), and surrogates (Cs)."""


def display(text: str, limit: int | None = None) -> str:
    """``text`` as a label shows it: controls (but ``\\n``) and lone surrogates -> U+FFFD."""
    shown = _HIDDEN.sub("\ufffd", text)
    if limit is not None and len(shown) > limit:
        shown = shown[: limit - 1] + "\u2026"
    return shown


def dot_string(text: str) -> str:
    """A DOT double-quoted label string showing ``text`` (already :func:`display`-safe)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def dot_unescape(quoted: str) -> str:
    """The text a DOT label string shows: the inverse of :func:`dot_string`."""
    if len(quoted) < 2 or quoted[0] != '"' or quoted[-1] != '"':
        raise ValueError(f"not a quoted DOT string: {quoted!r}")
    body = quoted[1:-1]
    out: list[str] = []
    index = 0
    while index < len(body):
        char = body[index]
        if char == "\\" and index + 1 < len(body):
            following = body[index + 1]
            out.append({"n": "\n", "\\": "\\", '"': '"'}.get(following, "\\" + following))
            index += 2
            continue
        out.append(char)
        index += 1
    return "".join(out)


@dataclass(frozen=True, slots=True)
class _Block:
    id: str
    kind: str
    label: str
    parent: str | None


def _blocks(flow: ir.Flow) -> list[_Block]:
    from .codegen.flow import block_sites

    conditions: dict[str, str] = {}
    for node in ir.iter_nodes(flow.body):
        match node:
            case ir.When(cond=cond):
                conditions[node.id] = f"when {expr_text(cond)}"
                conditions[f"else@{node.else_span.line}:{node.else_span.column}"] = "else"
            case ir.For(var=var, iter=iterable):
                conditions[node.id] = f"for {var} in {expr_text(iterable)}"
            case ir.Parallel():
                conditions[node.id] = "parallel"
    return [_Block(block_id, kind, conditions.get(block_id, kind), parent)
            for block_id, kind, _, parent in block_sites(flow)]


def graph_json(flow: ir.Flow, plan: FlowPlan | None = None) -> dict[str, Any]:
    """Nodes (steps), blocks (clusters) and edges of ``flow``."""
    from .codegen.flow import step_parents

    plan = plan or plan_flow(flow)
    parents = {step.id: parent for step, parent in step_parents(flow)}
    edges: list[dict[str, str]] = []
    for s in plan.steps:
        drawn: set[str] = set()
        for kind, sources in (("data", s.deps), ("error", s.jumps_from), ("guard", s.guard_deps),
                              ("order", s.after)):
            for source in sources:
                if source not in drawn:  # one edge per pair, the strongest reason
                    drawn.add(source)
                    edges.append({"from": source, "to": s.id, "kind": kind})
    return {
        "format": "tracemind-graph",
        "flow": flow.id,
        "source": flow.path,
        "nodes": [{"id": s.id, "kind": s.kind, "block": parents.get(s.id), "pure": s.pure,
                   "level": s.level, "line": s.line, "column": s.column} for s in plan.steps],
        "blocks": [{"id": b.id, "kind": b.kind, "label": b.label, "parent": b.parent}
                   for b in _blocks(flow)],
        "edges": edges,
    }


def graph_dot(flow: ir.Flow, graph: dict[str, Any] | None = None) -> str:
    """The DOT text of ``flow``."""
    graph = graph or graph_json(flow)
    node_ids = {node["id"]: f"n{index}" for index, node in enumerate(graph["nodes"])}
    cluster_ids = {block["id"]: f"cluster_{index}" for index, block in enumerate(graph["blocks"])}
    members: dict[str | None, list[str]] = {}
    for node in graph["nodes"]:
        label = dot_string(display(f"{node['id']}\n{node['kind']}"))
        style = ", style=\"rounded,dashed\"" if node["pure"] else ""
        members.setdefault(node["block"], []).append(
            f"{node_ids[node['id']]} [label={label}{style}];")
    children: dict[str | None, list[dict[str, Any]]] = {}
    for block in graph["blocks"]:
        children.setdefault(block["parent"], []).append(block)
    lines = [
        f"digraph {dot_string(display(flow.id))} {{",
        f"  graph [label={dot_string(display(flow.id))}, labelloc=t, fontname=\"Helvetica\"];",
        "  node [shape=box, style=rounded, fontname=\"Helvetica\"];",
        "  edge [fontname=\"Helvetica\"];",
    ]

    def emit(parent: str | None, depth: int) -> None:
        pad = "  " * depth
        for line in members.get(parent, ()):
            lines.append(pad + line)
        for block in children.get(parent, ()):
            lines.append(f"{pad}subgraph {cluster_ids[block['id']]} {{")
            label = dot_string(display(block["label"], MAX_LABEL))
            lines.append(f"{pad}  label={label};")
            emit(block["id"], depth + 1)
            lines.append(f"{pad}}}")

    emit(None, 1)
    for edge in graph["edges"]:
        lines.append(f"  {node_ids[edge['from']]} -> {node_ids[edge['to']]}"
                     f"{EDGE_STYLES[edge['kind']]};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def graph_svg(dot_text: str, timeout: float = 60.0) -> bytes:
    """SVG rendered by Graphviz ``dot``; :class:`GraphvizMissing` when it is not installed."""
    executable = shutil.which("dot")
    if executable is None:
        raise GraphvizMissing("`dot` (Graphviz) is not on PATH; install Graphviz (for example "
                              "`apt-get install graphviz`) or use --format dot|json")
    result = subprocess.run([executable, "-Tsvg"], input=dot_text.encode("utf-8"),
                            capture_output=True, timeout=timeout, check=False)
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip()
        raise RuntimeError(f"dot failed (exit {result.returncode}): {message}")
    return result.stdout
