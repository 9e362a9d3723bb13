"""``tmc fmt`` in-process: in-place rewrite, --check, --diff, syntax errors, encodings, crashes.

Most tests stand in a tiny formatter (strip trailing blanks) so they test the command's
mechanics; the last ones run the real formatter on the compat example.
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
import types
from pathlib import Path

import pytest

from tracemind.compiler import cli, pipeline
from tracemind.compiler.diagnostics import Diagnostic, Sink
from tracemind.compiler.source import SourceFile

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "compat"

CLEAN = "version: pdl/v1\nevaluate:\n  x := 1\nemit:\n  x: x\n"
MESSY = "version: pdl/v1   \nevaluate:\n  x := 1\t\nemit:\n  x: x\n\n\n"


def _fake_format(source: SourceFile, lang: str) -> tuple[str | None, list[Diagnostic]]:
    """Canonical form: no trailing blanks, one final newline; `SYNTAX` is a syntax error."""
    if "SYNTAX" in source.text:
        sink = Sink()
        offset = source.text.index("SYNTAX")
        sink.report("TM0101", source.display_path, source.span(offset, offset + 6),
                    message="unexpected `SYNTAX`")
        return None, sink.diagnostics()
    if "CRASH" in source.text:
        raise ValueError("formatter bug")
    lines = [line.rstrip() for line in source.text.split("\n")]
    return "\n".join(lines).rstrip("\n") + "\n", []


@pytest.fixture
def fake_fmt(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    module = types.ModuleType("tracemind.compiler.fmt")
    module.format_source = _fake_format  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tracemind.compiler.fmt", module)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TMC_DEBUG", raising=False)
    return tmp_path


def _write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    return path


def _state(path: Path) -> tuple[bytes, int, int]:
    info = path.stat()
    return path.read_bytes(), info.st_ino, info.st_mtime_ns


# ---------------------------------------------------------------------------------------------
# Mechanics (stand-in formatter)


def test_rewrites_only_changed_files(fake_fmt: Path, capsys: pytest.CaptureFixture[str]) -> None:
    messy = _write(fake_fmt / "src" / "messy.pdl", MESSY)
    clean = _write(fake_fmt / "src" / "clean.pdl", CLEAN)
    clean_before = _state(clean)
    assert cli.main(["fmt", "src"]) == 0
    assert messy.read_text(encoding="utf-8") == CLEAN
    assert _state(clean) == clean_before  # untouched: same bytes, same inode, same mtime
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        f"reformatted {os.path.join('src', 'messy.pdl')}",
        "1 file reformatted, 1 unchanged",
    ]
    assert sorted(p.name for p in (fake_fmt / "src").iterdir()) == ["clean.pdl", "messy.pdl"]


def test_check_lists_files_and_writes_nothing(
    fake_fmt: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    messy = _write(fake_fmt / "messy.pdl", MESSY)
    _write(fake_fmt / "clean.pdl", CLEAN)
    before = _state(messy)
    assert cli.main(["fmt", "--check", "messy.pdl", "clean.pdl"]) == 1
    assert _state(messy) == before
    captured = capsys.readouterr()
    assert captured.out == "would reformat messy.pdl\n"
    assert captured.err == "1 file would be reformatted, 1 unchanged\n"
    assert cli.main(["fmt", "--check", "clean.pdl"]) == 0


def test_diff_prints_a_unified_diff_and_writes_nothing(
    fake_fmt: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    messy = _write(fake_fmt / "messy.pdl", MESSY)
    before = _state(messy)
    assert cli.main(["fmt", "--diff", "messy.pdl"]) == 0
    assert _state(messy) == before
    out = capsys.readouterr().out
    assert out.startswith("--- messy.pdl\n+++ messy.pdl\n@@ ")
    assert "-version: pdl/v1   \n+version: pdl/v1\n" in out
    assert "-  x := 1\t\n+  x := 1\n" in out
    assert cli.main(["fmt", "--diff", "--check", "messy.pdl"]) == 1
    captured = capsys.readouterr()
    assert "+version: pdl/v1\n" in captured.out and "would reformat messy.pdl" in captured.out


def test_diff_marks_a_missing_final_newline(fake_fmt: Path, capsys: pytest.CaptureFixture[str]
                                            ) -> None:
    _write(fake_fmt / "a.pdl", CLEAN.rstrip("\n"))
    assert cli.main(["fmt", "--diff", "a.pdl"]) == 0
    assert "-  x: x\n\\ No newline at end of file\n+  x: x\n" in capsys.readouterr().out


def test_syntax_errors_are_reported_and_the_file_left_alone(
    fake_fmt: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = _write(fake_fmt / "broken.pdl", "version: pdl/v1\nevaluate:\n  SYNTAX   \n")
    messy = _write(fake_fmt / "messy.pdl", MESSY)
    before = _state(broken)
    assert cli.main(["fmt", "."]) == 1
    assert _state(broken) == before
    assert messy.read_text(encoding="utf-8") == CLEAN  # the other file is still formatted
    err = capsys.readouterr().err
    assert "broken.pdl:3:3: error[TM0101]: unexpected `SYNTAX`" in err
    assert "3 |   SYNTAX" in err
    assert "tmc fmt: ./broken.pdl has syntax errors; left unchanged" in err
    assert err.endswith("1 file reformatted, 0 unchanged, 1 with errors\n")


def test_undecodable_files_are_reported_and_left_alone(
    fake_fmt: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    binary = _write(fake_fmt / "blob.wdl", b"version\x00")
    latin = _write(fake_fmt / "latin.wdl", b"description: caf\xe9\n")
    assert cli.main(["fmt", "blob.wdl", "latin.wdl"]) == 1
    assert binary.read_bytes() == b"version\x00"
    assert latin.read_bytes() == b"description: caf\xe9\n"
    err = capsys.readouterr().err
    assert "blob.wdl:1:8: error[TM0109]" in err and "latin.wdl:1:17: error[TM0108]" in err


def test_crlf_bom_and_mode_are_kept(fake_fmt: Path) -> None:
    path = _write(fake_fmt / "win.pdl", b"\xef\xbb\xbf" + MESSY.replace("\n", "\r\n").encode())
    path.chmod(0o640)
    assert cli.main(["fmt", "win.pdl"]) == 0
    assert path.read_bytes() == b"\xef\xbb\xbf" + CLEAN.replace("\n", "\r\n").encode()
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert [p.name for p in fake_fmt.iterdir()] == ["win.pdl"]  # no temporary file left


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_a_symlink_stays_a_symlink(fake_fmt: Path) -> None:
    target = _write(fake_fmt / "real" / "a.pdl", MESSY)
    link = fake_fmt / "link.pdl"
    link.symlink_to(target)
    assert cli.main(["fmt", "link.pdl"]) == 0
    assert link.is_symlink()
    assert target.read_text(encoding="utf-8") == CLEAN


def test_formatter_crash_exits_3_and_other_files_still_format(
    fake_fmt: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    crash = _write(fake_fmt / "a.pdl", "version: pdl/v1 CRASH \n")
    messy = _write(fake_fmt / "b.pdl", MESSY)
    assert cli.main(["fmt", "a.pdl", "b.pdl"]) == 3
    assert crash.read_text(encoding="utf-8") == "version: pdl/v1 CRASH \n"
    assert messy.read_text(encoding="utf-8") == CLEAN
    err = capsys.readouterr().err
    assert "error: internal compiler error (TM0901) in the fmt phase on a.pdl: ValueError" in err
    assert "please report it" in err and "Traceback" not in err


def test_usage_errors_exit_2(fake_fmt: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (fake_fmt / "empty").mkdir()
    assert cli.main(["fmt", "empty", "nope.wdl"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "tmc fmt: error: no .wdl or .pdl files under empty",
        "tmc fmt: error: nope.wdl: no such file or directory",
    ]


def test_a_failed_write_is_an_error_not_a_crash(
    fake_fmt: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    messy = _write(fake_fmt / "messy.pdl", MESSY)

    def full_disk(path: str, data: bytes) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cli, "write_atomic", full_disk)
    assert cli.main(["fmt", "messy.pdl"]) == 1
    assert messy.read_text(encoding="utf-8") == MESSY
    assert "cannot write messy.pdl (No space left on device)" in capsys.readouterr().err


def test_write_atomic_leaves_the_old_file_when_the_write_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path / "a.pdl", "old\n")

    def refuse(src: str, dst: str) -> None:
        raise OSError(18, "Invalid cross-device link")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError):
        cli.write_atomic(str(path), b"new\n")
    assert path.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["a.pdl"]


# ---------------------------------------------------------------------------------------------
# The real formatter


def test_real_formatter_on_the_compat_example(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    work = tmp_path / "compat"
    shutil.copytree(EXAMPLES, work)
    monkeypatch.chdir(tmp_path)
    before = pipeline.parse_only(["compat"])
    assert before.errors == 0
    assert cli.main(["fmt", "compat"]) == 0
    capsys.readouterr()
    # Formatting is idempotent and never changes meaning.
    assert cli.main(["fmt", "--check", "compat"]) == 0
    assert capsys.readouterr().out == ""
    after = pipeline.parse_only(["compat"])
    assert after.errors == 0
    assert after.documents == before.documents


def test_real_formatter_refuses_a_broken_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    text = "version: dsl/v1\nworkflow: w\nsteps:\n  - a(core.log):\n      message: (1 +\n"
    path = _write(tmp_path / "bad.wdl", text)
    assert cli.main(["fmt", "bad.wdl"]) == 1
    assert path.read_text(encoding="utf-8") == text
    err = capsys.readouterr().err
    assert "bad.wdl:5:" in err and "left unchanged" in err
