"""``tmc plan`` and ``tmc graph``: levels, guards, scopes; DOT escaping that round-trips."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from cg_helpers import write_sources
from hypothesis import given
from hypothesis import strategies as st

from tracemind.compiler import cli
from tracemind.compiler.graph import display, dot_string, dot_unescape

ROOT = Path(__file__).resolve().parents[2]
FLEET = str(ROOT / "examples/fleet-health/fleet-health.wdl")


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = cli.main(argv)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_plan_json_of_fleet_health(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = _run(["plan", "--format", "json", FLEET], capsys)
    assert (status, err) == (0, "")
    (flow,) = json.loads(out)["flows"]
    assert flow["counts"] == {"steps": 6, "branches": 1, "loops": 1, "parallel": 1,
                              "concurrent": 0}
    assert flow["levels"] == [["api", "worker"], ["probe"], ["summary"], ["alert"], ["stop"]]
    assert flow["critical_path"] == 5
    steps = {s["id"]: s for s in flow["steps"]}
    assert steps["api"]["scope"] == ["parallel@13:3"]
    assert steps["alert"]["guard"] == "(not $step.summary.value.api)"
    assert steps["alert"]["deps"] == ["api"]
    assert steps["alert"]["guard_deps"] == ["summary"]
    assert steps["summary"]["pure"] is True
    assert steps["probe"]["after"] == ["api", "worker"]


def test_plan_levels_follow_data_and_side_effect_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (path,) = write_sources(tmp_path, {"f.wdl": """
        version: dsl/v1
        workflow: f
        steps:
          - a(core.log):
              message: "a"
          - b(core.set):
              value: 1
          - c(core.log):
              message: "c"
          - when $step.b.value > 0:
              - d(core.set):
                  value: 2
            else:
              - e(core.log):
                  message: "e"
        outputs:
          d: coalesce($step.d.value, 0)
    """})
    status, out, _ = _run(["plan", path], capsys)
    assert status == 0
    assert "level 1: a\n" in out and "level 2: b, c\n" in out and "level 3: d, e\n" in out
    assert "4 steps" not in out and "5 steps, 1 branch, 0 loops, 0 parallel blocks" in out
    assert re.search(r"e\s+core\.log\s+3\s+no\s+b,c\s+else@13:5\s+not \(\$step\.b\.value > 0\)",
                     out)


NASTY_LABELS = ['say "hi"', "back\\slash\\", "two\nlines", "<b>{x}|y</b>", "é漢字🙂",
                "\\n literal", '\\"', "x" * 500]


@pytest.mark.parametrize("label", NASTY_LABELS)
def test_dot_strings_round_trip(label: str) -> None:
    quoted = dot_string(display(label))
    assert "\n" not in quoted
    assert dot_unescape(quoted) == display(label) == label


@given(st.text())
def test_any_text_round_trips_through_dot(text: str) -> None:
    shown = display(text)
    assert dot_unescape(dot_string(shown)) == shown
    assert _tokens(f"digraph g {{ n [label={dot_string(shown)}]; }}")


_TOKEN = re.compile(r'\s+|"(?:[^"\\]|\\.)*"|[A-Za-z_][A-Za-z0-9_.]*|->|[{}\[\];=,]|-?[0-9.]+')


def _tokens(text: str) -> list[str]:
    """Tokenize DOT; fails on anything outside the grammar's tokens (e.g. a broken quote)."""
    tokens: list[str] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        assert match is not None, f"bad DOT at {position}: {text[position:position + 40]!r}"
        if not match.group().isspace():
            tokens.append(match.group())
        position = match.end()
    assert tokens.count("{") == tokens.count("}")
    return tokens


HOSTILE_FLOW = """
    version: dsl/v1
    workflow: q-"flow".x
    inputs:
      items: list<string> = ["a"]
    steps:
      - when $input.items[0] == "say \\"hi\\" \\\\ <b>{x}</b>\\nnext é":
          - a(core.log):
              message: "x"
      - for item in $input.items:
          - b(core.log):
              message: item
    outputs:
      ok: true
"""


def test_graph_dot_of_hostile_text_tokenizes_and_labels_round_trip(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = HOSTILE_FLOW.replace('q-"flow".x', "q-flow.x")
    (path,) = write_sources(tmp_path, {"f.wdl": source})
    status, out, err = _run(["graph", "--format", "dot", path], capsys)
    assert status == 0, err
    tokens = _tokens(out)
    labels = [dot_unescape(tokens[i + 2]) for i, tok in enumerate(tokens)
              if tok == "label" and tokens[i + 1] == "=" and tokens[i + 2].startswith('"')]
    assert 'when ($input.items[0] == "say \\"hi\\" \\\\ <b>{x}</b>\\nnext é")' in labels
    assert "a\ncore.log" in labels and "for item in $input.items" in labels
    if _graphviz():
        import html

        svg = subprocess.run(["dot", "-Tsvg"], input=out.encode(), capture_output=True,
                             check=True).stdout.decode()
        texts = [html.unescape(t) for t in re.findall(r"<text[^>]*>(.*?)</text>", svg)]
        assert 'when ($input.items[0] == "say \\"hi\\" \\\\ <b>{x}</b>\\nnext é")' in texts
        assert texts[texts.index("a"):texts.index("a") + 2] == ["a", "core.log"]
    status, out, _ = _run(["graph", "--format", "json", path], capsys)
    graph = json.loads(out)
    assert [n["id"] for n in graph["nodes"]] == ["a", "b"]
    assert graph["nodes"][0]["block"] == "when@6:3"
    assert graph["edges"] == [{"from": "a", "kind": "order", "to": "b"}]


def test_graph_writes_a_file_and_svg_needs_graphviz(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "g.dot"
    assert _run(["graph", FLEET, "-o", str(out)], capsys)[0] == 0
    assert out.read_text(encoding="utf-8").startswith('digraph "fleet-health" {')
    if _graphviz():
        svg = tmp_path / "g.svg"
        assert _run(["graph", FLEET, "--format", "svg", "-o", str(svg)], capsys)[0] == 0
        assert b"<svg" in svg.read_bytes()
        checked = subprocess.run(["dot", "-Tsvg", str(out)], capture_output=True, check=False)
        assert checked.returncode == 0
    monkeypatch.setenv("PATH", str(tmp_path))
    status, _, err = _run(["graph", FLEET, "--format", "svg"], capsys)
    assert status == 2 and "`dot` (Graphviz) is not on PATH" in err


def _graphviz() -> bool:
    """Graphviz is installed by scripts/setup.sh; in CI its absence is a failure, not a skip."""
    return bool(shutil.which("dot") or os.environ.get("CI"))


def test_graph_needs_one_workflow(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = _run(["graph", str(ROOT / "examples/compat/plant-monitor.pdl")], capsys)
    assert status == 2 and "holds 0 workflows" in err
