"""The pipeline: discovery, loading bad input, crash isolation, and hostile documents.

Every bad input must end in a clear diagnostic or usage error: never a traceback, never an
internal error (TM0901).
"""

from __future__ import annotations

import os
import sys
import types
from collections.abc import Sequence
from pathlib import Path

import pytest

from tracemind.compiler import pipeline
from tracemind.compiler.diagnostics import Diagnostic, Sink
from tracemind.compiler.dump import dump_ast
from tracemind.compiler.source import SourceFile

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "compat"

WDL = """version: dsl/v1
workflow: demo
steps:
  - hello(core.log):
      message: "hello"
"""

PDL = """version: pdl/v1
policy: demo
evaluate:
  x := 1
emit:
  x: x
"""


def _write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return path


def _codes(diagnostics: Sequence[Diagnostic]) -> list[str]:
    return [d.code for d in diagnostics]


def _decode(data: bytes, path: str = "x.wdl") -> tuple[pipeline.Loaded | None, list[Diagnostic]]:
    sink = Sink()
    loaded = pipeline.decode(path, data, sink)
    return loaded, sink.diagnostics()


# ---------------------------------------------------------------------------------------------
# Discovery


def test_discover_walks_directories_sorted_and_keeps_given_spelling(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("proj/b.wdl", "proj/a.pdl", "proj/sub/c.WDL", "proj/sub/z/d.pdl",
                 "proj/.hidden/e.wdl", "proj/node_modules/f.wdl", "proj/.g.wdl",
                 "proj/readme.md", "proj/sub/notes.txt"):
        _write(tmp_path / name, WDL)
    inputs, errors = pipeline.discover(["proj/"])
    assert errors == []
    assert [(i.path, i.lang) for i in inputs] == [
        ("proj/a.pdl", "pdl"),
        ("proj/b.wdl", "wdl"),
        (os.path.join("proj/", "sub", "c.WDL"), "wdl"),
        (os.path.join("proj/", "sub", "z", "d.pdl"), "pdl"),
    ]


def test_discover_keeps_command_line_order_and_drops_repeats(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "d" / "x.wdl", WDL)
    _write(tmp_path / "y.pdl", PDL)
    inputs, errors = pipeline.discover(["y.pdl", "d", "./d/x.wdl", "y.pdl"])
    assert errors == []
    assert [i.path for i in inputs] == ["y.pdl", os.path.join("d", "x.wdl")]


def test_discover_reports_usage_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "notes.txt", "hello")
    (tmp_path / "empty").mkdir()
    _write(tmp_path / "only-docs" / "README.md", "# docs")
    inputs, errors = pipeline.discover(["notes.txt", "missing.wdl", "empty", "only-docs"])
    assert inputs == []
    assert errors == [
        "notes.txt: not a WDL or PDL source; name a .wdl or .pdl file or a directory",
        "missing.wdl: no such file or directory",
        "no .wdl or .pdl files under empty",
        "no .wdl or .pdl files under only-docs",
    ]


def test_lint_raises_usage_error_for_bad_paths(tmp_path: Path) -> None:
    with pytest.raises(pipeline.UsageError) as caught:
        pipeline.lint([str(tmp_path)])
    assert caught.value.messages == [f"no .wdl or .pdl files under {tmp_path}"]


def test_unreadable_file_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path / "secret.wdl", WDL)

    def denied(*args: object, **kwargs: object) -> object:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(pipeline, "open", denied, raising=False)
    with pytest.raises(pipeline.UsageError) as caught:
        pipeline.parse_only([str(path)])
    assert caught.value.messages == [f"{path}: cannot read (Permission denied)"]


# ---------------------------------------------------------------------------------------------
# Loading: bytes -> text


def test_invalid_utf8_points_at_the_first_bad_byte() -> None:
    loaded, diagnostics = _decode("version: dsl/v1\ndescription: caf\u00e9 ".encode() + b"\xff!\n")
    assert loaded is None
    (diagnostic,) = diagnostics
    assert diagnostic.code == "TM0108"
    assert (diagnostic.span.line, diagnostic.span.column) == (2, 19)
    assert "invalid start byte 0xFF at byte offset 35" in diagnostic.message
    assert "UTF-8" in diagnostic.help


def test_invalid_utf8_after_a_bom_reports_the_file_offset() -> None:
    _, diagnostics = _decode(b"\xef\xbb\xbfab\xc3(")
    (diagnostic,) = diagnostics
    assert diagnostic.code == "TM0108"
    assert (diagnostic.span.line, diagnostic.span.column) == (1, 3)
    assert "invalid continuation byte 0xC3 at byte offset 5" in diagnostic.message


def test_binary_file_is_refused() -> None:
    loaded, diagnostics = _decode(b"\x7fELF\x02\x01\x01\x00\x00\x00")
    assert loaded is None
    assert _codes(diagnostics) == ["TM0109"]
    assert diagnostics[0].span.column == 8


def test_utf16_gets_an_encoding_error_not_binary() -> None:
    _, diagnostics = _decode("version: dsl/v1\n".encode("utf-16"))
    assert _codes(diagnostics) == ["TM0108"]
    assert "UTF-16 byte-order mark" in diagnostics[0].message


@pytest.mark.parametrize("data", [b"", b"   \n\n\t \r\n", b"\xef\xbb\xbf\n"])
def test_empty_and_blank_files(data: bytes) -> None:
    loaded, diagnostics = _decode(data)
    assert loaded is None
    assert _codes(diagnostics) == ["TM0110"]


def test_bom_is_stripped_and_crlf_normalised() -> None:
    loaded, diagnostics = _decode(b"\xef\xbb\xbfversion: dsl/v1\r\nworkflow: w\r\nx: 1\rz\n")
    assert diagnostics == [] and loaded is not None
    assert loaded.bom and loaded.crlf
    assert loaded.source.text == "version: dsl/v1\nworkflow: w\nx: 1\nz\n"
    plain, _ = _decode(b"a: 1\r\n")
    assert plain is not None and not plain.bom and plain.crlf
    unix, _ = _decode(b"a: 1\n")
    assert unix is not None and not unix.crlf


def test_crlf_and_bom_do_not_move_spans(tmp_path: Path) -> None:
    lf = _write(tmp_path / "lf.wdl", WDL)
    crlf = _write(tmp_path / "crlf.wdl", b"\xef\xbb\xbf" + WDL.replace("\n", "\r\n").encode())
    result = pipeline.parse_only([str(lf), str(crlf)])
    assert result.errors == 0
    assert dump_ast(result.documents[str(lf)]) == dump_ast(result.documents[str(crlf)])


def test_file_over_the_size_limit_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.wdl"
    with open(path, "wb") as stream:
        stream.write(b"version: dsl/v1\n")
        stream.truncate(pipeline.MAX_FILE_BYTES + 1024)
    sink = Sink()
    assert pipeline.load(pipeline.Input(str(path), "wdl"), sink) is None
    (diagnostic,) = sink.diagnostics()
    assert diagnostic.code == "TM0113"
    assert "8,389,632 bytes" in diagnostic.message and "8 MiB" in diagnostic.message


def test_five_megabyte_line_is_handled(tmp_path: Path) -> None:
    """A 5 MB value on one line, with a syntax error at its very end."""
    body = "a" * (5 * 1024 * 1024)
    text = (
        f'version: dsl/v1\nworkflow: w\ndescription: "{body}\n'
        "steps:\n  - a(core.log): {message: 1}\n"
    )
    path = _write(tmp_path / "big.wdl", text)
    result = pipeline.parse_only([str(path)])
    assert result.internal_errors == []
    assert result.errors >= 1
    assert "TM0105" in _codes(result.diagnostics)  # the unterminated string


@pytest.mark.slow
def test_five_megabyte_workflow_parses(tmp_path: Path) -> None:
    lines = ["version: dsl/v1", "workflow: big", "steps:"]
    size = 0
    while size < 5 * 1024 * 1024:
        line = f'  - s{len(lines)}(core.log): {{message: "step {len(lines)} of a long flow"}}'
        lines.append(line)
        size += len(line) + 1
    path = _write(tmp_path / "big.wdl", "\n".join(lines) + "\n")
    result = pipeline.parse_only([str(path)])
    assert result.diagnostics == []
    document = result.documents[str(path)]
    assert len(getattr(document, "steps")) == len(lines) - 3  # noqa: B009


# ---------------------------------------------------------------------------------------------
# Hostile documents: a clear diagnostic each, never a crash


def _lint_text(tmp_path: Path, name: str, text: str) -> pipeline.LintResult:
    """Lint one document with the real parser and checker; it must not crash."""
    path = _write(tmp_path / name, text)
    result = pipeline.lint([str(path)])
    assert result.internal_errors == [], result.internal_errors
    assert "TM0901" not in _codes(result.diagnostics)
    return result


def test_tab_in_indentation(tmp_path: Path) -> None:
    text = 'version: dsl/v1\nworkflow: w\nsteps:\n\t- a(core.log): {message: "x"}\n'
    result = _lint_text(tmp_path, "tab.wdl", text)
    (tab,) = [d for d in result.diagnostics if d.code == "TM0102"]
    assert (tab.span.line, tab.span.column) == (4, 1)


def test_ten_thousand_nested_brackets(tmp_path: Path) -> None:
    value = "[" * 10_000 + "]" * 10_000
    text = f"version: dsl/v1\nworkflow: w\nsteps:\n  - a(core.set):\n      value: {value}\n"
    result = _lint_text(tmp_path, "deep.wdl", text)
    assert "TM0112" in _codes(result.diagnostics)


def test_ten_thousand_nested_parentheses_in_a_policy(tmp_path: Path) -> None:
    value = "(" * 10_000 + "1" + ")" * 10_000
    result = _lint_text(
        tmp_path, "deep.pdl", f"version: pdl/v1\nevaluate:\n  x := {value}\nemit:\n  x: x\n"
    )
    assert "TM0112" in _codes(result.diagnostics)


def test_deeply_nested_when_blocks(tmp_path: Path) -> None:
    """As deep as an 8 MiB file allows (10,000 levels of indentation would be 200 MB)."""
    lines = ["version: dsl/v1", "workflow: w", "steps:"]
    for depth in range(1_500):
        lines.append(" " * (2 + 4 * depth) + "- when true:")
    lines.append(" " * (2 + 4 * 1_500) + '- a(core.log): {message: "x"}')
    result = _lint_text(tmp_path, "whens.wdl", "\n".join(lines) + "\n")
    assert "TM0112" in _codes(result.diagnostics)


# ---------------------------------------------------------------------------------------------
# Internal errors are isolated per file


def test_a_crashing_parse_is_tm0901_for_that_file_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tracemind.compiler import parse

    real = parse.parse_document

    def flaky(source: SourceFile, sink: Sink, lang: str) -> object:
        if source.display_path.endswith("bad.wdl"):
            raise ZeroDivisionError("boom")
        return real(source, sink, lang)

    monkeypatch.setattr(parse, "parse_document", flaky)
    good = _write(tmp_path / "good.wdl", WDL)
    bad = _write(tmp_path / "bad.wdl", WDL)
    result = pipeline.parse_only([str(good), str(bad)])
    assert list(result.documents) == [str(good)]
    (diagnostic,) = result.diagnostics
    assert diagnostic.code == "TM0901" and diagnostic.path == str(bad)
    assert "the parse phase crashed (ZeroDivisionError: boom)" in diagnostic.message
    (error,) = result.internal_errors
    assert (error.path, error.phase) == (str(bad), "parse")
    assert "ZeroDivisionError: boom" in error.traceback and "flaky" in error.traceback


def test_a_crash_is_reported_even_past_the_diagnostic_cap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tracemind.compiler import parse

    def noisy(source: SourceFile, sink: Sink, lang: str) -> object:
        for line in range(1, 400):
            sink.report("TM0207", source.display_path, source.span(0, 1), name=f"v{line}")
        raise RuntimeError("after many errors")

    monkeypatch.setattr(parse, "parse_document", noisy)
    path = _write(tmp_path / "a.pdl", PDL)
    result = pipeline.parse_only([str(path)])
    assert "TM0901" in _codes(result.diagnostics)
    assert "TM0117" in _codes(result.diagnostics)


def _fake_check_module(
    monkeypatch: pytest.MonkeyPatch, crash_on: str | None, *, always: bool = False
) -> list[int]:
    """Install a stand-in ``check`` phase; returns the list of unit counts it was called with."""
    calls: list[int] = []

    def check(units: Sequence[tuple[SourceFile, object]], sink: Sink, *, strict: bool = False,
              registry: object = None) -> object:
        calls.append(len(units))
        for source, _ in units:
            sink.report("TM0605", source.display_path, source.span(0, 7), name="seen")
            if always or (crash_on is not None and source.display_path.endswith(crash_on)):
                raise KeyError("no such type")
        return "checked"

    module = types.ModuleType("tracemind.compiler.check")
    module.check = check  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tracemind.compiler.check", module)
    return calls


def test_lint_checks_all_files_together(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _fake_check_module(monkeypatch, None)
    _write(tmp_path / "a.wdl", WDL)
    _write(tmp_path / "b.pdl", PDL)
    result = pipeline.lint([str(tmp_path)], strict=True)
    assert calls == [2]
    assert result.files == 2 and result.warnings == 2 and result.errors == 0
    assert result.check_result == "checked"
    assert sorted(result.sources) == sorted(result.documents) == [
        str(tmp_path / "a.wdl"),
        str(tmp_path / "b.pdl"),
    ]


def test_a_crashing_check_blames_the_file_that_crashes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_check_module(monkeypatch, "b.pdl")
    _write(tmp_path / "a.wdl", WDL)
    _write(tmp_path / "b.pdl", PDL)
    result = pipeline.lint([str(tmp_path)])
    crashes = [d for d in result.diagnostics if d.code == "TM0901"]
    assert [d.path for d in crashes] == [str(tmp_path / "b.pdl")]
    assert "the check phase crashed (KeyError: 'no such type')" in crashes[0].message
    # What the checker reported before it crashed is kept.
    assert [d.path for d in result.diagnostics if d.code == "TM0605"] == [
        str(tmp_path / "a.wdl"),
        str(tmp_path / "b.pdl"),
    ]


def test_a_check_crash_with_no_single_culprit_blames_the_first_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _fake_check_module(monkeypatch, "b.pdl")
    calls.clear()

    _write(tmp_path / "a.wdl", WDL)
    _write(tmp_path / "b.pdl", PDL)

    def only_together(units: Sequence[tuple[SourceFile, object]], sink: Sink, *,
                      strict: bool = False, registry: object = None) -> object:
        if len(units) > 1:
            raise AssertionError("cross-file bug")
        return None

    module = sys.modules["tracemind.compiler.check"]
    monkeypatch.setattr(module, "check", only_together)
    result = pipeline.lint([str(tmp_path)])
    assert [(d.code, d.path) for d in result.diagnostics] == [
        ("TM0901", str(tmp_path / "a.wdl"))
    ]


def test_the_compat_example_parses_cleanly() -> None:
    result = pipeline.parse_only([str(EXAMPLES)])
    assert result.files == 2
    assert result.diagnostics == []
    assert sorted(os.path.basename(p) for p in result.documents) == [
        "plant-monitor.pdl",
        "plant-monitor.wdl",
    ]
