"""Hover, definition, symbols and completion as plain functions over a checked snapshot."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracemind.compiler import nodes as n
from tracemind.compiler.lsp.analysis import Lookup, NodeIndex, document_symbols
from tracemind.compiler.lsp.complete import complete
from tracemind.compiler.lsp.workspace import Snapshot, check_group

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "plant-monitor-v1"
WDL = str(EXAMPLE / "plant-monitor-v1.wdl")
PDL = str(EXAMPLE / "plant-monitor-v1.pdl")


@pytest.fixture(scope="module")
def snapshot() -> Snapshot:
    return check_group(WDL, {})


def _pos(path: str, needle: str, offset: int = 0) -> tuple[int, int]:
    """1-based (line, code-point column) of ``needle`` (first occurrence) plus ``offset``."""
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return number, line.index(needle) + 1 + offset
    raise AssertionError(needle)


def test_group_holds_the_policy_of_the_directory(snapshot: Snapshot) -> None:
    assert snapshot.paths == (WDL, PDL)
    assert snapshot.result.diagnostics == []


def test_innermost_node_and_its_ancestors(snapshot: Snapshot) -> None:
    doc = snapshot.document(WDL)
    assert doc is not None
    chain = NodeIndex.of(doc).at(*_pos(WDL, "read.values", 1))
    assert isinstance(chain[0], n.Attr) and chain[0].name == "read"
    assert isinstance(chain[-1], n.Workflow)


def test_hover_texts(snapshot: Snapshot) -> None:
    lookup = Lookup(snapshot, WDL)
    step = lookup.hover(*_pos(WDL, "decide.action", 2))
    assert step is not None and step.markdown.startswith("step `decide` (`policy.apply`)")
    field = lookup.hover(*_pos(WDL, "target_node", 1))
    assert field is not None and field.markdown == "`target_node`: `string`"
    kind = lookup.hover(*_pos(WDL, "opcua.read", 1))
    assert kind is not None and "opcua.read(endpoint: string, node_ids: list<string>)" in (
        kind.markdown)
    builtin = lookup.hover(*_pos(WDL, "coalesce", 1))
    assert builtin is not None and "coalesce(a: T?, b: T?, ...) -> T" in builtin.markdown
    decl = lookup.hover(*_pos(WDL, "  endpoint: string", 3))
    assert decl is not None and decl.markdown == (
        'input `endpoint: string = "opc.tcp://localhost:4840"`')


def test_policy_hover_for_arms(snapshot: Snapshot) -> None:
    lookup = Lookup(snapshot, PDL)
    arm_field = lookup.hover(*_pos(PDL, "arms.active.threshold", len("arms.active.") + 1))
    assert arm_field is not None and arm_field.markdown == "`threshold` (arm field): `float`"
    arm = lookup.hover(*_pos(PDL, "cautious:", 1))
    assert arm is not None and "- `threshold`: `float`" in arm.markdown


def test_definitions(snapshot: Snapshot) -> None:
    lookup = Lookup(snapshot, WDL)
    step = lookup.definition(*_pos(WDL, "read.values", 1))
    assert step is not None and (step.path, step.span.line) == (WDL, _pos(WDL, "read(")[0])
    decl = lookup.definition(*_pos(WDL, "$input.nodes", 8))
    assert decl is not None and decl.span.line == _pos(WDL, "  nodes:")[0]
    policy = lookup.definition(*_pos(WDL, "policy: plant", 9))
    assert policy is not None and policy.path == PDL
    variable = Lookup(snapshot, PDL).definition(*_pos(PDL, "temp >=", 1))
    assert variable is not None and variable.span.line == _pos(PDL, "temp :=")[0]


def test_symbols_nest_block_steps(snapshot: Snapshot) -> None:
    doc = snapshot.document(WDL)
    assert doc is not None
    symbols = document_symbols(doc)
    assert [s.name for s in symbols] == ["endpoint", "nodes", "read", "decide", "when",
                                         "decision", "wrote"]
    assert [s.name for s in symbols[4].children] == ["write", "note"]
    for symbol in symbols:
        assert symbol.span.cover(symbol.selection) == symbol.span


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("      values: $step.", ["read", "decide", "write", "note"]),
        ("      values: $step.decide.reason.", ["temp", "threshold"]),
        ("      values: $input.", ["endpoint", "nodes"]),
        ("  - x(opcua.", None),
    ],
)
def test_completion_contexts(snapshot: Snapshot, typed: str, expected: list[str] | None) -> None:
    lines = Path(WDL).read_text(encoding="utf-8").splitlines()
    line = _pos(WDL, "values: $step.read.values")[0]
    lines[line - 1] = typed
    labels = [item.label for item in complete(snapshot, WDL, lines, line, len(typed) + 1)]
    if expected is None:
        assert {"opcua.read", "opcua.write", "core.log"} <= set(labels)
    else:
        assert labels == expected


def test_completion_of_arguments_and_arm_fields(snapshot: Snapshot) -> None:
    # The editor's text (not the file on disk) is checked: `node_ids` is being retyped.
    text = Path(WDL).read_text(encoding="utf-8").replace("node_ids: $input.nodes", "")
    typing = check_group(WDL, {WDL: text})
    lines = text.splitlines()
    line = _pos(WDL, "node_ids: $input.nodes")[0]
    labels = [i.label for i in complete(typing, WDL, lines, line, 7)]
    assert labels == ["node_ids", "@on_error"]
    policy_lines = Path(PDL).read_text(encoding="utf-8").splitlines()
    typed = "  x = arms.cautious."
    policy_lines[5] = typed
    fields = [i.label for i in complete(snapshot, PDL, policy_lines, 6, len(typed) + 1)]
    assert fields == ["threshold", "action_on_violation", "target_node"]
