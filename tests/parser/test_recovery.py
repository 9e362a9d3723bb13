"""Error recovery: one run reports every syntax error of a file, one per bad value."""

from __future__ import annotations

from tracemind.compiler import nodes as n
from tracemind.compiler.codes import Severity
from tracemind.compiler.diagnostics import Sink
from tracemind.compiler.parse import parse_document
from tracemind.compiler.source import SourceFile

SEEDED = """\
version: dsl/v1
workflow: seeded
inputs:
  a: int = 1 +
  b: list<string
  c: strin?g
steps:
  - one(core.log):
      message: "ok" +* 2
  - two(core.log):
      message: foo(1,, 2)
  - when $input.a == = 3:
      - three(core.log): {message: "x"}
  - four core.log:
      message: "x"
  - five(core.log):
      message: "unterminated
  - six(core.log):
      message: "fine"
outputs:
  x: $step.six ]
"""


def test_seven_seeded_errors_are_all_reported_without_cascades() -> None:
    source = SourceFile("seeded.wdl", SEEDED)
    sink = Sink()
    doc = parse_document(source, sink, "wdl")
    errors = [d for d in sink.diagnostics() if d.severity is Severity.ERROR]
    lines = sorted(d.span.line for d in errors)
    assert lines == [4, 5, 6, 9, 11, 12, 14, 17, 21]
    assert len({d.span.line for d in errors}) == len(errors)
    assert isinstance(doc, n.Workflow)
    ids = [s.id for s in doc.steps if isinstance(s, n.Step)]
    assert ids == ["one", "two", "five", "six"]


def test_end_of_value_errors_point_at_the_value_end() -> None:
    source = SourceFile("e.wdl", "version: dsl/v1\nworkflow: w\nsteps:\n  - a(core.log):\n"
                        "      message: 1 +   \n")
    sink = Sink()
    parse_document(source, sink, "wdl")
    (d,) = sink.diagnostics()
    assert d.code == "TM0101"
    assert (d.span.line, d.span.column) == (5, 18)
    assert "expected an expression" in d.message and "end of the value" in d.message


def test_v0_plain_string_fallback_and_v1_quote_fix() -> None:
    v0 = "version: dsl/v0\nworkflow: w\nsteps:\n  - r(opcua.read):\n" \
         "      endpoint: opc.tcp://localhost:4840\n      node_ids: []\n"
    sink = Sink()
    doc = parse_document(SourceFile("w.wdl", v0), sink, "wdl")
    assert [d.code for d in sink.diagnostics()] == ["TM0601"]
    assert isinstance(doc, n.Workflow)
    step = doc.steps[0]
    assert isinstance(step, n.Step)
    assert step.args[0].value == n.PlainString(value="opc.tcp://localhost:4840")
    sink = Sink()
    parse_document(SourceFile("w.wdl", v0.replace("dsl/v0", "dsl/v1")), sink, "wdl")
    (d,) = sink.diagnostics()
    assert d.code == "TM0111"
    assert d.fixes[0].edits[0].text == '"opc.tcp://localhost:4840"'


def test_python_literals_warn_in_v0_and_fail_in_v1() -> None:
    text = "version: pdl/v0\nevaluate:\n  x = True\nemit:\n  x: x\n"
    sink = Sink()
    doc = parse_document(SourceFile("p.pdl", text), sink, "pdl")
    (d,) = sink.diagnostics()
    assert (d.code, d.severity) == ("TM0602", Severity.WARNING)
    assert isinstance(doc, n.Policy)
    assign = doc.evaluate[0]
    assert isinstance(assign, n.Assign)
    assert assign.value == n.Literal(kind=n.LitKind.BOOL, value=True)
    sink = Sink()
    parse_document(SourceFile("p.pdl", text.replace("pdl/v0", "pdl/v1")), sink, "pdl")
    (d,) = sink.diagnostics()
    assert (d.code, d.severity) == ("TM0602", Severity.ERROR)


def test_structure_errors_have_codes() -> None:
    text = (
        "version: dsl/v0\nworkflow: w\nbogus: 1\nsteps:\n"
        "  - a(core.log):\n"
        "  - parallel:\n      - b(core.log): {message: 1}\n"
        "  - when true:\n      - c(core.log): {message: 1}\n    elif false:\n"
        "      - d(core.log): {message: 1}\n"
        "  - e(core.log):\n      @later: 1\n      message: 1\n"
    )
    sink = Sink()
    parse_document(SourceFile("w.wdl", text), sink, "wdl")
    got = [(d.span.line, d.code) for d in sink.diagnostics()]
    assert got == [(3, "TM0402"), (5, "TM0106"), (6, "TM0411"), (10, "TM0405"), (13, "TM0408")]


def test_policy_statement_errors() -> None:
    text = (
        "version: pdl/v1\nevaluate:\n  x = 1 with p = 0.5\n  for a in b:\n    y = 1\n"
        "  action: 1\n  else:\n    z = 1\n  when x:\n    z = 2\nemit:\n  x: x\n"
    )
    sink = Sink()
    parse_document(SourceFile("p.pdl", text), sink, "pdl")
    got = [(d.span.line, d.code) for d in sink.diagnostics()]
    assert got == [(3, "TM0508"), (4, "TM0507"), (6, "TM0509"), (7, "TM0509"), (9, "TM0509")]
