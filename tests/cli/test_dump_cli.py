"""``tmc dump --stage ast``: the canonical AST dump, its stage table, and very deep trees."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from tracemind.compiler import cli, dump
from tracemind.compiler import nodes as n
from tracemind.compiler.diagnostics import Sink
from tracemind.compiler.source import SourceFile, Span

ROOT = Path(__file__).resolve().parents[2]
WDL = "examples/compat/plant-monitor.wdl"
PDL = "examples/compat/plant-monitor.pdl"

LINE = re.compile(
    r"^(?P<indent>(?:  )*)(?:\[\d+\] )?(?:\w+(?:\[\d+\])?: )?"
    r"(?P<cls>[A-Z]\w*) @\d+:\d+-\d+:\d+(?: \w+=.+)?$"
)


@pytest.fixture
def in_root(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(ROOT)
    return ROOT


def _dump(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = cli.main(argv)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_dump_ast_of_the_compat_workflow(in_root: Path, capsys: pytest.CaptureFixture[str]
                                         ) -> None:
    status, out, err = _dump(["dump", "--stage", "ast", WDL], capsys)
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].startswith('Workflow @1:1-') and 'name="plant-monitor"' in lines[0]
    assert 'version="dsl/v0"' in lines[0]
    assert all(LINE.match(line) for line in lines), [x for x in lines if not LINE.match(x)]
    steps = [line.strip() for line in lines if re.match(r"\s*(steps|body)\[\d+\]: ", line)]
    assert [re.sub(r" @\S+", "", s).split(" policy=")[0] for s in steps] == [
        'steps[0]: Step id="read" kind="opcua.read"',
        'steps[1]: Step id="decide" kind="policy.apply"',
        "steps[2]: When orelse=null",
        'body[0]: Step id="write" kind="opcua.write"',
    ]
    # Children are indented one level (two spaces) under their parent.
    when = next(i for i, line in enumerate(lines) if "steps[2]: When" in line)
    assert lines[when + 1].startswith("    cond: Binary ") and 'op="in"' in lines[when + 1]


def test_dump_ast_of_the_compat_policy_is_deterministic(
    in_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = _dump(["dump", "--stage", "ast", PDL], capsys)
    second = _dump(["dump", "--stage", "ast", PDL], capsys)
    assert first == second and first[0] == 0
    assert first[1].startswith('Policy @1:1-')
    assert 'ChooseOption @12:7-' in first[1] and 'name="exploit" target="action"' in first[1]
    assert "value=75.0" in first[1] and 'value="ns=2;i=5001"' in first[1]


def test_the_cli_offers_every_stage_in_the_table() -> None:
    assert tuple(dump.STAGES) == cli.DUMP_STAGES
    assert all(name == stage.name for name, stage in dump.STAGES.items())


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["dump", WDL], "the following arguments are required: --stage"),
        (["dump", "--stage", "bytecode", WDL], "invalid choice: 'bytecode'"),
    ],
)
def test_dump_usage_errors(
    in_root: Path, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = _dump(argv, capsys)
    assert (status, out) == (2, "") and message in err


def test_dump_wants_one_file(in_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = _dump(["dump", "--stage", "ast", "examples/compat"], capsys)
    assert (status, out) == (2, "")
    assert err == "tmc dump: error: examples/compat: holds 2 sources; name one file\n"
    status, out, err = _dump(["dump", "--stage", "ast", "examples/nope.wdl"], capsys)
    assert (status, out) == (2, "")


def test_dump_of_a_broken_file_prints_diagnostics_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.pdl"
    path.write_text("version: pdl/v1\nevaluate:\n  x := (1 +\nemit:\n  x: x\n", encoding="utf-8")
    status, out, err = _dump(["dump", "--stage", "ast", str(path)], capsys)
    assert (status, out) == (1, "")
    assert f"{path}:3:" in err and "error[TM01" in err


def test_dump_crash_exits_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tracemind.compiler import parse

    def explode(source: SourceFile, sink: Sink, lang: str) -> None:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(parse, "parse_document", explode)
    monkeypatch.delenv("TMC_DEBUG", raising=False)
    path = tmp_path / "a.wdl"
    path.write_text("version: dsl/v1\n", encoding="utf-8")
    status, out, err = _dump(["dump", "--stage", "ast", str(path)], capsys)
    assert (status, out) == (3, "")
    assert "internal compiler error (TM0901) in the parse phase" in err
    assert "Traceback" not in err


# ---------------------------------------------------------------------------------------------
# dump_ast directly: hidden fields, deep and wide trees


def test_layout_fields_are_not_dumped() -> None:
    quoted = n.DataScalar(value="x", quoted=True, text='"x"', span=Span(1, 1, 1, 4))
    bare = n.DataScalar(value="x", quoted=False, text="x", span=Span(1, 1, 1, 4))
    assert dump.dump_ast(quoted) == dump.dump_ast(bare) == 'DataScalar @1:1-1:4 value="x"\n'


def test_scalars_are_spelled_canonically() -> None:
    node = n.Call(
        func="f\u00e9",
        args=(
            n.Literal(kind=n.LitKind.BOOL, value=True),
            n.Literal(kind=n.LitKind.NULL, value=None),
            n.Literal(kind=n.LitKind.FLOAT, value=1.5),
            n.Literal(kind=n.LitKind.STRING, value='a"b\n'),
        ),
    )
    assert dump.dump_ast(node).splitlines() == [
        'Call @1:1-1:1 func="f\\u00e9"',
        '  args[0]: Literal @1:1-1:1 kind="bool" value=true',
        '  args[1]: Literal @1:1-1:1 kind="null" value=null',
        '  args[2]: Literal @1:1-1:1 kind="float" value=1.5',
        '  args[3]: Literal @1:1-1:1 kind="string" value="a\\"b\\n"',
    ]


def test_twenty_thousand_levels_deep_without_recursion() -> None:
    """Far past the interpreter's recursion limit: a recursive walk would fail here."""
    depth = 20_000
    assert depth > sys.getrecursionlimit()
    one = n.Literal(kind=n.LitKind.INT, value=1)
    tree: n.Expr = one
    for _ in range(depth):
        tree = n.Binary(op=n.BinOp.ADD, left=tree, right=one)
    text = dump.dump_ast(tree)
    lines = text.splitlines()
    assert len(lines) == 2 * depth + 1
    assert lines[0] == 'Binary @1:1-1:1 op="+"'
    assert lines[depth] == (
        "  " * dump.MAX_INDENT + f'[{depth}] left: Literal @1:1-1:1 kind="int" value=1'
    )
    assert lines[-1] == '  right: Literal @1:1-1:1 kind="int" value=1'

    # Indentation stops growing, so the output stays linear in the tree size.
    assert max(len(line) for line in lines) < 2 * dump.MAX_INDENT + 80


def test_twenty_thousand_steps_from_the_parser(tmp_path: Path) -> None:
    from tracemind.compiler.parse import parse_document

    count = 20_000
    text = "version: dsl/v1\nworkflow: wide\nsteps:\n" + "".join(
        f'  - s{i}(core.log): {{message: "{i}"}}\n' for i in range(count)
    )
    sink = Sink()
    document = parse_document(SourceFile("wide.wdl", text), sink, "wdl")
    assert sink.diagnostics() == [] and document is not None
    lines = dump.dump_ast(document).splitlines()
    step_lines = [line for line in lines if line.startswith("  steps[")]
    assert len(step_lines) == count
    assert step_lines[-1].startswith(f'  steps[{count - 1}]: Step @{count + 3}:3-')
