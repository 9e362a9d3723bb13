"""Rendering diagnostics: text snippets, JSON shape, SARIF validated against the 2.1.0 schema."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tracemind.compiler import render
from tracemind.compiler.codes import Severity
from tracemind.compiler.diagnostics import Diagnostic, Edit, Fix, Note, Sink
from tracemind.compiler.source import SourceFile, Span

SCHEMA_PATH = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"

WDL = """version: dsl/v1
workflow: demo
steps:
  - when $step.decide.action:
      note(core.log): {message: "hi"}
"""


def _source(text: str = WDL, path: str = "flows/monitor.wdl") -> SourceFile:
    return SourceFile(path, text)


def _diag(
    span: Span,
    *,
    path: str = "flows/monitor.wdl",
    code: str = "TM0303",
    message: str = "condition must be bool, found string",
    severity: Severity = Severity.ERROR,
    **extra: Any,
) -> Diagnostic:
    return Diagnostic(
        code=code, severity=severity, path=path, span=span, message=message, **extra
    )


def _sample() -> list[Diagnostic]:
    """A mix of everything a diagnostic can carry, in sorted order."""
    source = _source()
    return [
        _diag(
            source.span(source.text.index("$step"), source.text.index(":\n      note")),
            label="this is `string`",
            notes=(
                Note("`action` comes from the policy's emit block"),
                Note("emitted here", Span(3, 3, 3, 9), "policies/plant.pdl"),
            ),
            help='compare it, e.g. `$step.decide.action == "WRITE_BACK"`',
            fixes=(
                Fix(
                    "compare with a string",
                    (Edit(Span(4, 28, 4, 28), ' == "WRITE_BACK"'),),
                ),
            ),
        ),
        _diag(
            Span(5, 7, 5, 11),
            code="TM0605",
            message="input `limit` is never used",
            severity=Severity.WARNING,
        ),
    ]


# ---------------------------------------------------------------------------------------------
# Text


def test_text_header_snippet_and_carets() -> None:
    diagnostic = _sample()[0]
    text = render.render_diagnostic(diagnostic, _source())
    lines = text.splitlines()
    assert lines[0] == (
        "flows/monitor.wdl:4:10: error[TM0303]: condition must be bool, found string"
    )
    assert lines[1] == "  |"
    assert lines[2] == "4 |   - when $step.decide.action:"
    assert lines[3] == "  |          ^^^^^^^^^^^^^^^^^^^ this is `string`"
    # The carets sit exactly under the span's text.
    caret_start = lines[3].index("^")
    caret_end = lines[3].rindex("^") + 1
    assert lines[2][caret_start:caret_end] == "$step.decide.action"
    assert lines[4] == "  = note: `action` comes from the policy's emit block"
    assert lines[5] == "  = note: policies/plant.pdl:3:3: emitted here"
    assert lines[6] == '  = help: compare it, e.g. `$step.decide.action == "WRITE_BACK"`'
    assert lines[7] == "  = fix: compare with a string"
    assert lines[8] == '         4:28: insert ` == "WRITE_BACK"`'
    assert "\x1b[" not in text


def test_multiline_span_underlines_to_end_of_first_line() -> None:
    source = _source("a: [1,\n    2]\n", "x.wdl")
    text = render.render_diagnostic(_diag(Span(1, 4, 2, 7), path="x.wdl"), source)
    assert text.splitlines()[2:4] == ["1 | a: [1,", "  |    ^^^"]


def test_zero_width_span_gets_one_caret_even_at_end_of_line() -> None:
    source = _source("key:\n", "x.wdl")
    text = render.render_diagnostic(_diag(Span(1, 5, 1, 5), path="x.wdl"), source)
    assert text.splitlines()[2:4] == ["1 | key:", "  |     ^"]


def test_gutter_widens_with_the_line_number() -> None:
    source = _source("x\n" * 120, "x.wdl")
    lines = render.render_diagnostic(_diag(Span(117, 1, 117, 2), path="x.wdl"), source)
    assert lines.splitlines()[1:4] == ["    |", "117 | x", "    | ^"]


def test_tabs_wide_and_control_characters_keep_carets_aligned() -> None:
    line = "\tname: \u6e29\u5ea6\x1b[31m x"
    source = _source(line + "\n", "x.wdl")
    column = line.index(" x") + 2  # the final `x`
    text = render.render_diagnostic(_diag(Span(1, column, 1, column + 1), path="x.wdl"), source)
    shown, carets = text.splitlines()[2:4]
    assert "\x1b" not in shown and "\ufffd" in shown
    assert shown.startswith("1 |     name: ")  # the tab became four spaces
    # Two wide characters take two cells each: the caret lands under the `x`.
    cells = sum(2 if "\u4e00" <= ch <= "\u9fff" else 1 for ch in shown[: len(shown) - 1])
    assert carets.index("^") == cells


def test_bidi_controls_in_messages_are_neutralised() -> None:
    diagnostic = _diag(Span(1, 1, 1, 2), message="unknown key `a\u202eb`", path="x.wdl")
    assert "\u202e" not in render.render_diagnostic(diagnostic, None)


def test_long_lines_are_cut_around_the_span() -> None:
    line = "description: " + "a" * 5000 + "BAD" + "b" * 5000
    source = _source(line + "\n", "x.wdl")
    column = line.index("BAD") + 1
    text = render.render_diagnostic(_diag(Span(1, column, 1, column + 3), path="x.wdl"), source)
    shown, carets = text.splitlines()[2:4]
    assert len(shown) < 200 and shown.endswith("…") and "1 | …" in shown
    start = carets.index("^")
    assert carets.count("^") == 3
    assert shown[start : start + 3] == "BAD"


def test_span_past_the_end_of_the_file_renders_no_snippet() -> None:
    text = render.render_diagnostic(_diag(Span(40, 1, 40, 2), path="x.wdl"), _source("a\n"))
    assert text == "x.wdl:40:1: error[TM0303]: condition must be bool, found string"


def test_fix_descriptions_show_replaced_and_deleted_text() -> None:
    source = _source("endpoint: opc.tcp://host:4840\nflag: True\n", "x.wdl")
    diagnostic = _diag(
        Span(1, 11, 1, 30),
        path="x.wdl",
        fixes=(
            Fix("quote it", (Edit(Span(1, 11, 1, 30), '"opc.tcp://host:4840"'),)),
            Fix("drop it", (Edit(Span(2, 1, 2, 11), ""),)),
        ),
    )
    lines = render.render_diagnostic(diagnostic, source).splitlines()
    assert '1:11: replace `opc.tcp://host:4840` with `"opc.tcp://host:4840"`' in lines[-3]
    assert lines[-1].endswith("2:1: delete `flag: True`")


def test_internal_errors_have_no_snippet() -> None:
    diagnostic = _diag(Span(1, 1, 1, 1), code="TM0901", message="internal compiler error: x")
    text = render.render_diagnostic(diagnostic, _source())
    assert "|" not in text


def test_render_text_ends_with_a_summary() -> None:
    diagnostics = _sample()
    text = render.render_text(diagnostics, {"flows/monitor.wdl": _source()}, files=3)
    assert text.endswith("\n1 error, 1 warning in 3 files\n")
    assert text.count("\n\nflows/monitor.wdl:5:7: warning[TM0605]") == 1


@pytest.mark.parametrize(
    ("files", "errors", "warnings", "expected"),
    [
        (3, 2, 1, "2 errors, 1 warning in 3 files"),
        (1, 0, 0, "0 errors, 0 warnings in 1 file"),
        (2, 1, 2, "1 error, 2 warnings in 2 files"),
    ],
)
def test_summary_line(files: int, errors: int, warnings: int, expected: str) -> None:
    assert render.summary_line(files, errors, warnings) == expected


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_color_only_on_a_tty_without_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("TERM", raising=False)
    assert render.use_color(_Tty())
    assert not render.use_color(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not render.use_color(_Tty())
    monkeypatch.setenv("NO_COLOR", "")  # the convention: only a non-empty value disables
    assert render.use_color(_Tty())


def test_colored_text_has_the_same_words() -> None:
    diagnostic = _sample()[0]
    plain = render.render_diagnostic(diagnostic, _source())
    colored = render.render_diagnostic(diagnostic, _source(), color=True)
    assert "\x1b[1;31m" in colored
    stripped = colored
    for code in ("\x1b[0m", "\x1b[1m", "\x1b[1;31m", "\x1b[1;34m", "\x1b[1;36m"):
        stripped = stripped.replace(code, "")
    assert stripped == plain


# ---------------------------------------------------------------------------------------------
# JSON


REQUIRED_KEYS = {
    "path", "line", "column", "end_line", "end_column", "severity", "code", "message", "notes",
}


def test_json_shape() -> None:
    report = json.loads(render.render_json(_sample(), files=2))
    assert set(report) == {"diagnostics", "summary"}
    assert report["summary"] == {"files": 2, "errors": 1, "warnings": 1}
    first, second = report["diagnostics"]
    assert set(first) >= REQUIRED_KEYS
    assert first["path"] == "flows/monitor.wdl"
    assert (first["line"], first["column"], first["end_line"], first["end_column"]) == (
        4, 10, 4, 29,
    )
    assert first["severity"] == "error" and first["code"] == "TM0303"
    assert first["name"] == "condition-not-bool"
    assert first["notes"] == [
        "`action` comes from the policy's emit block",
        "emitted here",
    ]
    assert first["related"] == [
        {
            "message": "emitted here",
            "path": "policies/plant.pdl",
            "line": 3,
            "column": 3,
            "end_line": 3,
            "end_column": 9,
        }
    ]
    assert first["help"].startswith("compare it")
    assert first["fixes"] == [
        {
            "message": "compare with a string",
            "edits": [
                {
                    "line": 4,
                    "column": 28,
                    "end_line": 4,
                    "end_column": 28,
                    "text": ' == "WRITE_BACK"',
                }
            ],
        }
    ]
    assert second["severity"] == "warning" and second["notes"] == [] and second["help"] is None


def test_json_is_ascii_and_deterministic() -> None:
    diagnostic = _diag(Span(1, 1, 1, 2), message="unknown key `temp\u00e9rature`", path="x.wdl")
    text = render.render_json([diagnostic], files=1)
    assert text.isascii()
    assert json.loads(text)["diagnostics"][0]["message"] == "unknown key `temp\u00e9rature`"
    assert text == render.render_json([diagnostic], files=1)


# ---------------------------------------------------------------------------------------------
# SARIF


@pytest.fixture(scope="module")
def sarif_validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    validator_class = jsonschema.validators.validator_for(schema)
    assert validator_class is jsonschema.Draft4Validator
    validator_class.check_schema(schema)
    return validator_class(schema)


def test_sarif_validates_and_carries_everything(
    sarif_validator: jsonschema.protocols.Validator,
) -> None:
    log = json.loads(render.render_sarif(_sample(), tool_version="9.9.9"))
    sarif_validator.validate(log)
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "tmc" and driver["version"] == "9.9.9"
    assert [rule["id"] for rule in driver["rules"]] == ["TM0303", "TM0605"]
    assert driver["rules"][1]["defaultConfiguration"] == {"level": "warning"}
    assert driver["rules"][0]["name"] == "condition-not-bool"
    first, second = run["results"]
    assert first["ruleId"] == "TM0303" and first["ruleIndex"] == 0 and first["level"] == "error"
    assert first["message"]["text"] == "condition must be bool, found string"
    location = first["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "flows/monitor.wdl", "uriBaseId": "%SRCROOT%"}
    assert location["region"] == {"startLine": 4, "startColumn": 10, "endLine": 4, "endColumn": 29}
    (related,) = first["relatedLocations"]
    assert related["message"]["text"] == "emitted here"
    assert related["physicalLocation"]["artifactLocation"]["uri"] == "policies/plant.pdl"
    (fix,) = first["fixes"]
    (replacement,) = fix["artifactChanges"][0]["replacements"]
    assert replacement["insertedContent"]["text"] == ' == "WRITE_BACK"'
    assert replacement["deletedRegion"]["startColumn"] == 28
    assert second["level"] == "warning" and second["ruleIndex"] == 1
    assert run["invocations"] == [{"executionSuccessful": True}]


def test_sarif_of_no_diagnostics_validates(
    sarif_validator: jsonschema.protocols.Validator,
) -> None:
    log = render.sarif_log([], tool_version="0.1.0", successful=False)
    sarif_validator.validate(log)
    assert log["runs"][0]["results"] == [] and log["runs"][0]["tool"]["driver"]["rules"] == []
    assert log["runs"][0]["invocations"] == [{"executionSuccessful": False}]


def test_sarif_from_a_real_sink_validates(
    sarif_validator: jsonschema.protocols.Validator,
) -> None:
    """Every severity and a cap notice, as the sink produces them."""
    sink = Sink(max_per_file=2)
    for line in range(1, 5):
        sink.report("TM0207", "dir one/a b.pdl", Span(line, 1, line, 4), name="tmp")
    sink.report("TM0602", "b.wdl", Span(1, 1, 1, 5), found="True", want="true")
    log = render.sarif_log(sink.diagnostics(), tool_version="0.1.0")
    sarif_validator.validate(log)
    uris = [
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for result in log["runs"][0]["results"]
    ]
    assert uris[0] == "b.wdl" and uris[1] == "dir%20one/a%20b.pdl"
    assert "TM0117" in {rule["id"] for rule in log["runs"][0]["tool"]["driver"]["rules"]}


def test_artifact_uris_are_relative_with_forward_slashes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert render.artifact_location("./examples//compat/x.wdl") == {
        "uri": "examples/compat/x.wdl",
        "uriBaseId": "%SRCROOT%",
    }
    assert render.artifact_location(str(work / "flows" / "a.wdl")) == {
        "uri": "flows/a.wdl",
        "uriBaseId": "%SRCROOT%",
    }
    outside = tmp_path / "other" / "a.wdl"
    assert render.artifact_location(str(outside)) == {"uri": outside.as_uri()}
