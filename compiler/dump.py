"""Canonical text dumps of compiler stages (``tmc dump --stage NAME PATH``), for golden tests.

Input: the result of a pipeline run.  Output: deterministic text, one node per line.

The AST dump writes each node as its class name, its span as ``@line:col-line:col`` and its
scalar fields inline (``name="read"``, ``default=null``, ``args=[]``); node-valued fields follow
on their own lines, indented two spaces deeper and labelled ``field:`` or ``field[i]:``.  Only
fields that take part in equality are shown (the same ones that make two trees equal), so layout
details such as quoting style never change a dump.  Strings are JSON-quoted and ASCII-only.

Invariants: the walk uses an explicit stack, never recursion on tree depth (a document can
hold 20,000 steps and expressions nest deeply); past :data:`MAX_INDENT` levels the indentation
stops growing and the depth is written as ``[depth]`` so output stays linear in tree size.

:data:`STAGES` is the table of dumpable stages; later phases (``ir``, ``opt``) add rows.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from .pipeline import Input, LintResult, parse_inputs

if TYPE_CHECKING:
    from .nodes import Node

MAX_INDENT = 60
"""Levels of indentation written out; deeper lines carry their depth as ``[depth]``."""


@dataclass(frozen=True, slots=True)
class DumpStage:
    """One row of the stage table.

    ``run`` takes the inputs through the phases the stage needs; ``render`` dumps one file of
    that run (None when the run produced nothing for it).
    """

    name: str
    help: str
    run: Callable[[Sequence[Input]], LintResult]
    render: Callable[[str, LintResult], str | None]


def _render_ast(path: str, result: LintResult) -> str | None:
    document = result.documents.get(path)
    return dump_ast(document) if document is not None else None


def _lint(inputs: Sequence[Input]) -> LintResult:
    from .pipeline import lint_inputs

    return lint_inputs(inputs)


def _render_ir(level: int | None) -> Callable[[str, LintResult], str | None]:
    def render(path: str, result: LintResult) -> str | None:
        from .ir_dump import dump_flow, dump_policy
        from .pipeline import lower_result

        lowered = lower_result(result, level)
        if path in lowered.flows:
            return dump_flow(lowered.flows[path])
        if path in lowered.policies:
            return dump_policy(lowered.policies[path])
        return None

    return render


STAGES: dict[str, DumpStage] = {
    "ast": DumpStage("ast", "the parsed syntax tree", parse_inputs, _render_ast),
    "ir": DumpStage("ir", "the lowered IR, before optimization", _lint, _render_ir(None)),
    "opt": DumpStage("opt", "the IR after the optimizer (-O1)", _lint, _render_ir(1)),
}


def _scalar(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return json.dumps(value.value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, tuple):
        return "[" + ", ".join(_scalar(item) for item in value) + "]"
    return json.dumps(str(value))


_FIELDS: dict[type, tuple[str, ...]] = {}


def _shown_fields(node_type: type) -> tuple[str, ...]:
    names = _FIELDS.get(node_type)
    if names is None:
        names = tuple(f.name for f in dataclasses.fields(node_type) if f.compare)
        _FIELDS[node_type] = names
    return names


def _indent(depth: int) -> str:
    if depth <= MAX_INDENT:
        return "  " * depth
    return "  " * MAX_INDENT + f"[{depth}] "


def dump_ast(root: Node) -> str:
    """The canonical dump of the tree under ``root`` (see the module docstring)."""
    from .nodes import Node

    lines: list[str] = []
    stack: list[tuple[int, str, Node]] = [(0, "", root)]
    while stack:
        depth, label, node = stack.pop()
        parts = [f"{_indent(depth)}{label}{type(node).__name__} @{node.span}"]
        children: list[tuple[int, str, Node]] = []
        for name in _shown_fields(type(node)):
            value = getattr(node, name)
            if isinstance(value, Node):
                children.append((depth + 1, f"{name}: ", value))
            elif (
                isinstance(value, tuple)
                and value
                and all(isinstance(item, Node) for item in value)
            ):
                children.extend(
                    (depth + 1, f"{name}[{i}]: ", item) for i, item in enumerate(value)
                )
            else:
                parts.append(f"{name}={_scalar(value)}")
        lines.append(" ".join(parts))
        stack.extend(reversed(children))
    return "\n".join(lines) + "\n"
