"""``tmc lint`` in-process (exit codes, stdout, stderr) plus one real subprocess smoke test."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import types
from collections.abc import Sequence
from pathlib import Path

import jsonschema
import pytest

from tracemind import __version__
from tracemind.compiler import cli, pipeline
from tracemind.compiler.diagnostics import Sink
from tracemind.compiler.source import SourceFile
from tracemind.runtime import cli as runtime_cli

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "tests" / "data" / "sarif-schema-2.1.0.json"
BIN = Path(sys.executable).parent

TAB_WDL = 'version: dsl/v1\nworkflow: tabbed\nsteps:\n\t- a(core.log): {message: "x"}\n'
REQUIRED = {"path", "line", "column", "end_line", "end_column", "severity", "code", "message",
            "notes"}


@pytest.fixture
def in_root(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("TMC_DEBUG", raising=False)
    return ROOT


def _fake_check(monkeypatch: pytest.MonkeyPatch, *, warn: bool = False,
                calls: list[bool] | None = None) -> None:
    """Stand in for the checker so exit-code tests do not depend on its rules."""

    def check(units: Sequence[tuple[SourceFile, object]], sink: Sink, *, strict: bool = False,
              registry: object = None) -> None:
        if calls is not None:
            calls.append(strict)
        if warn:
            for source, _ in units:
                sink.report("TM0605", source.display_path, source.span(0, 7), name="unused")

    module = types.ModuleType("tracemind.compiler.check")
    module.check = check  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tracemind.compiler.check", module)


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------
# Version and usage


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out == f"tmc {__version__}\n"


def test_tm_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert runtime_cli.main(["--version"]) == 0
    assert capsys.readouterr().out == f"tm {__version__}\n"
    assert runtime_cli.main([]) == 0
    assert "usage: tm" in capsys.readouterr().out
    assert runtime_cli.main(["run"]) == 2
    assert "the following arguments are required: TARGET" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "the following arguments are required: COMMAND"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["lint"], "the following arguments are required: PATH"),
        (["lint", "--format", "xml", "x.wdl"], "invalid choice: 'xml'"),
    ],
)
def test_argparse_errors_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: tmc") and message in err


def test_usage_errors_exit_2_and_print_nothing_on_stdout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "notes.txt", "x")
    (tmp_path / "empty").mkdir()
    assert cli.main(["lint", "--format", "json", "missing.wdl", "notes.txt", "empty"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        "tmc lint: error: missing.wdl: no such file or directory",
        "tmc lint: error: notes.txt: not a WDL or PDL source; name a .wdl or .pdl file or a "
        "directory",
        "tmc lint: error: no .wdl or .pdl files under empty",
    ]


# ---------------------------------------------------------------------------------------------
# The compat example (real parser and checker)


def test_compat_example_lints_clean(in_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = cli.main(["lint", "examples/compat"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert re.search(r"^0 errors, \d+ warnings? in 2 files$", out, re.MULTILINE), out
    assert "\x1b[" not in out  # captured output is not a terminal


def test_compat_example_json(in_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wdl = "examples/compat/plant-monitor.wdl"
    pdl = "examples/compat/plant-monitor.pdl"
    assert cli.main(["lint", "--format", "json", wdl, pdl]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report) == {"diagnostics", "summary"}
    assert report["summary"]["files"] == 2 and report["summary"]["errors"] == 0
    for diagnostic in report["diagnostics"]:
        assert set(diagnostic) >= REQUIRED
        assert diagnostic["severity"] == "warning"
        assert diagnostic["path"] in (wdl, pdl)


def _hostile_inputs(root: Path) -> dict[str, tuple[list[str], int, str]]:
    """name -> (argv paths, expected exit code, code or message expected in the output)."""
    deep_when = ["version: dsl/v1", "workflow: w", "steps:"]
    deep_when += [" " * (2 + 4 * d) + "- when true:" for d in range(1_500)]
    deep_when.append(" " * (2 + 4 * 1_500) + '- a(core.log): {message: "x"}')
    files: dict[str, str | bytes] = {
        "latin1.wdl": b"version: dsl/v1\ndescription: caf\xe9\n",
        "blob.pdl": b"\x7fELF\x02\x01\x01\x00\x00",
        "empty.wdl": b"",
        "blank.pdl": b"  \n\n",
        "tab.wdl": TAB_WDL,
        "long.wdl": 'version: dsl/v1\nworkflow: w\ndescription: "' + "a" * (5 << 20) + "\n",
        "brackets.wdl": "version: dsl/v1\nworkflow: w\nsteps:\n  - a(core.set):\n      value: "
        + "[" * 10_000 + "]" * 10_000 + "\n",
        "parens.pdl": "version: pdl/v1\nevaluate:\n  x := " + "(" * 10_000 + "1"
        + ")" * 10_000 + "\nemit:\n  x: x\n",
        "whens.wdl": "\n".join(deep_when) + "\n",
    }
    for name, data in files.items():
        path = root / name
        path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    (root / "nothing-here").mkdir()
    return {
        "latin1": (["latin1.wdl"], 1, "latin1.wdl:2:17: error[TM0108]"),
        "binary": (["blob.pdl"], 1, "blob.pdl:1:8: error[TM0109]"),
        "empty": (["empty.wdl"], 1, "empty.wdl:1:1: error[TM0110]"),
        "blank": (["blank.pdl"], 1, "error[TM0110]"),
        "tab": (["tab.wdl"], 1, "tab.wdl:4:1: error[TM0102]"),
        "5 MB line": (["long.wdl"], 1, "error[TM0105]"),
        "10,000 [": (["brackets.wdl"], 1, "error[TM0112]"),
        "10,000 (": (["parens.pdl"], 1, "error[TM0112]"),
        "1,500 when": (["whens.wdl"], 1, "error[TM0112]"),
        "empty dir": (["nothing-here"], 2, "no .wdl or .pdl files under nothing-here"),
        "not a source": (["nothing-here/../tab.wdl", "README"], 2, "README: no such file"),
    }


def test_hostile_inputs_exit_1_or_2_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TMC_DEBUG", raising=False)
    for name, (paths, want_status, want_text) in _hostile_inputs(tmp_path).items():
        status = cli.main(["lint", *paths])
        captured = capsys.readouterr()
        output = captured.out + captured.err
        assert status == want_status, (name, output[:2000])
        assert want_text in output, (name, output[:2000])
        assert "Traceback" not in output and "TM0901" not in output, name


# ---------------------------------------------------------------------------------------------
# Reports with errors (real parser; the checker is stood in)


def test_errors_exit_1_with_text_snippet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _fake_check(monkeypatch)
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "flows" / "tab.wdl", TAB_WDL)
    assert cli.main(["lint", "flows"]) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"{os.path.join('flows', 'tab.wdl')}:4:1: error[TM0102]: ")
    assert "\n4 |     - a(core.log)" in out and "\n  | ^^^^" in out
    assert re.search(r"^\d+ errors?, 0 warnings in 1 file$", out, re.MULTILINE)


def test_json_report_of_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _fake_check(monkeypatch)
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "tab.wdl", TAB_WDL)
    assert cli.main(["lint", "--format", "json", "./tab.wdl"]) == 1
    report = json.loads(capsys.readouterr().out)
    first = report["diagnostics"][0]
    assert set(first) >= REQUIRED
    assert (first["path"], first["line"], first["column"]) == ("./tab.wdl", 4, 1)
    assert (first["code"], first["severity"], first["message"]) == (
        "TM0102", "error", "tab in indentation"
    )
    assert first["fixes"] and first["fixes"][0]["edits"][0]["line"] == 4
    assert report["summary"] == {
        "files": 1, "errors": len(report["diagnostics"]), "warnings": 0
    }


def test_sarif_report_validates_against_the_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _fake_check(monkeypatch, warn=True)
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "src" / "tab.wdl", TAB_WDL)
    _write(tmp_path / "src" / "bad.pdl", "version: pdl/v1\nevaluate:\n  x := (1 +\nemit:\n  x: x\n")
    assert cli.main(["lint", "--format", "sarif", "src"]) == 1
    log = json.loads(capsys.readouterr().out)
    jsonschema.Draft4Validator(json.loads(SCHEMA.read_text(encoding="utf-8"))).validate(log)
    run = log["runs"][0]
    assert run["tool"]["driver"]["version"] == __version__
    locations = [r["locations"][0]["physicalLocation"] for r in run["results"]]
    uris = {location["artifactLocation"]["uri"] for location in locations}
    assert uris == {"src/tab.wdl", "src/bad.pdl"}
    levels = {r["level"] for r in run["results"]}
    assert levels == {"error", "warning"}
    rule_ids = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    assert rule_ids == sorted({r["ruleId"] for r in run["results"]})


def test_output_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _fake_check(monkeypatch)
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "tab.wdl", TAB_WDL)
    assert cli.main(["lint", "--format", "json", "-o", "report.json", "tab.wdl"]) == 1
    assert capsys.readouterr().out == ""
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["diagnostics"][0]["code"] == "TM0102"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json", "tab.wdl"]
    assert cli.main(["lint", "-o", "no/such/dir/report.txt", "tab.wdl"]) == 2
    assert "cannot write no/such/dir/report.txt" in capsys.readouterr().err


def test_warnings_only_exit_0_and_strict_reaches_the_checker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[bool] = []
    _fake_check(monkeypatch, warn=True, calls=calls)
    path = _write(tmp_path / "a.pdl", "version: pdl/v1\nevaluate:\n  x := 1\nemit:\n  x: x\n")
    assert cli.main(["lint", "--strict", str(path)]) == 0
    assert calls == [True]
    out = capsys.readouterr().out
    assert "warning[TM0605]" in out and out.endswith("0 errors, 1 warning in 1 file\n")


# ---------------------------------------------------------------------------------------------
# Internal errors, interrupts, broken pipes


def test_crash_in_a_phase_exits_3_with_banner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tracemind.compiler import parse

    _fake_check(monkeypatch)
    monkeypatch.delenv("TMC_DEBUG", raising=False)

    def explode(source: SourceFile, sink: Sink, lang: str) -> None:
        raise IndexError("list index out of range")

    monkeypatch.setattr(parse, "parse_document", explode)
    path = _write(tmp_path / "a.wdl", "version: dsl/v1\n")
    assert cli.main(["lint", str(path)]) == 3
    captured = capsys.readouterr()
    assert f"{path}:1:1: error[TM0901]: internal compiler error" in captured.out
    assert "error: internal compiler error (TM0901) in the parse phase" in captured.err
    assert "this is a bug in tmc; please report it with the input that caused it" in captured.err
    assert "Traceback" not in captured.err + captured.out

    monkeypatch.setenv("TMC_DEBUG", "1")
    assert cli.main(["lint", "--format", "sarif", str(path)]) == 3
    captured = capsys.readouterr()
    assert "Traceback (most recent call last)" in captured.err and "explode" in captured.err
    assert json.loads(captured.out)["runs"][0]["invocations"][0]["executionSuccessful"] is False


def test_uncaught_exception_exits_3_without_a_bare_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TMC_DEBUG", raising=False)

    def broken(paths: Sequence[str], *, strict: bool = False) -> pipeline.LintResult:
        raise TypeError("unsupported operand")

    monkeypatch.setattr(pipeline, "lint", broken)
    assert cli.main(["lint", "x.wdl"]) == 3
    err = capsys.readouterr().err
    assert err.startswith("error: internal compiler error (TM0901): TypeError: unsupported")
    assert "please report it" in err and "Traceback" not in err


def test_keyboard_interrupt_exits_130_quietly(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(paths: Sequence[str], *, strict: bool = False) -> pipeline.LintResult:
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "lint", interrupted)
    assert cli.main(["lint", "x.wdl"]) == 130
    captured = capsys.readouterr()
    assert captured.out == "" and "Traceback" not in captured.err


class _ClosedPipe:
    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self) -> None:
        raise BrokenPipeError(32, "Broken pipe")

    def fileno(self) -> int:
        raise OSError("not a real stream")


def test_broken_pipe_exits_quietly(
    in_root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _fake_check(monkeypatch)
    monkeypatch.setattr(sys, "stdout", _ClosedPipe())
    assert cli.main(["lint", "examples/compat"]) == 141
    assert capsys.readouterr().err == ""


# ---------------------------------------------------------------------------------------------
# Start-up cost and the real console scripts


def test_version_imports_nothing_heavy() -> None:
    probe = (
        "import sys\n"
        "from tracemind.compiler import cli\n"
        "cli.main(['--version'])\n"
        "heavy = {'lark', 'jinja2', 'croniter', 'yaml', 'networkx'}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy\n"
        "             or m.startswith(('tracemind.compiler.', 'tracemind.stdlib'))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.splitlines() == [f"tmc {__version__}", "['tracemind.compiler.cli']"]


def _script(name: str) -> str:
    path = BIN / name
    if not path.exists():
        pytest.fail(f"console script {name} is not installed next to {sys.executable}")
    return str(path)


def test_console_scripts_smoke() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("TMC_DEBUG", "NO_COLOR")}
    version = subprocess.run(
        [_script("tmc"), "--version"], capture_output=True, text=True, timeout=60, env=env
    )
    assert (version.returncode, version.stdout, version.stderr) == (0, f"tmc {__version__}\n", "")

    lint = subprocess.run(
        [_script("tmc"), "lint", "examples/compat"],
        capture_output=True, text=True, timeout=120, cwd=ROOT, env=env,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert lint.stdout.rstrip().endswith("in 2 files") and lint.stderr == ""

    tm = subprocess.run(
        [_script("tm"), "--version"], capture_output=True, text=True, timeout=60, env=env
    )
    assert (tm.returncode, tm.stdout) == (0, f"tm {__version__}\n")
