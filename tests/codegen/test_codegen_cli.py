"""``tmc compile`` end to end: zip bundles the runtime loads, usage errors, and run-time errors
located in the source through the generated modules' source maps."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from cg_helpers import compile_texts, write_sources

from tracemind.compiler import cli
from tracemind.runtime.bundle import load_bundle
from tracemind.runtime.runner import BundleRunner

ROOT = Path(__file__).resolve().parents[2]

DIVIDE = """
    version: dsl/v1
    workflow: divide
    inputs:
      d: int = 0
    steps:
      - a(core.set):
          value: 1
      - b(core.log):
          message: "dividing"
          level: "debug"
      - c(core.set):
          value: $step.a.value / $input.d
    outputs:
      ratio: $step.c.value
"""


@pytest.mark.parametrize("level", [0, 1, 2])
def test_a_run_time_error_points_at_its_expression(tmp_path: Path, level: int) -> None:
    bundle = compile_texts(tmp_path, {"divide.wdl": DIVIDE}, level)
    runner = BundleRunner(load_bundle(bundle))
    result = asyncio.run(runner.run("divide", {}))
    assert result.status == "failed" and result.error is not None
    assert (result.error.path, result.error.line, result.error.column) == (
        "divide.wdl", 12, 14)
    assert "division by zero" in result.error.message
    ok = asyncio.run(runner.run("divide", {"d": 4}))
    assert ok.outputs == {"ratio": 0.25}


def test_compile_zip_is_a_loadable_bundle(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                          ) -> None:
    out = tmp_path / "b.zip"
    status = cli.main(["compile", str(ROOT / "examples" / "compat"), "-o", str(out), "--zip"])
    assert status == 0
    assert "compiled 1 flow(s) and 1 policy(ies)" in capsys.readouterr().err
    bundle = load_bundle(out)
    assert bundle.name == "plant-monitor" and set(bundle.policies) == {"plant-monitor"}


def test_compile_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["compile", str(tmp_path / "missing.wdl"), "-o", str(tmp_path / "o")]) == 2
    assert "no such file" in capsys.readouterr().err
    (source,) = write_sources(tmp_path, {"a.wdl": DIVIDE})
    assert cli.main(["compile", source, "-o", str(tmp_path / "new" / "dirs" / "out")]) == 0
    assert (tmp_path / "new" / "dirs" / "out" / "manifest.json").is_file()
    capsys.readouterr()
    (tmp_path / "plain").write_text("x")
    assert cli.main(["compile", source, "-o", str(tmp_path / "plain" / "out")]) == 2
    assert "is not a directory" in capsys.readouterr().err
    assert cli.main(["compile", source]) == 2
    (tmp_path / "file").write_text("x")
    assert cli.main(["compile", source, "-o", str(tmp_path / "file")]) == 2
    assert (tmp_path / "file").read_text() == "x"


def test_compile_prints_warnings_and_writes(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                            ) -> None:
    (source,) = write_sources(tmp_path / "src", {"w.wdl": """
        version: dsl/v1
        workflow: w
        steps:
          - when 1 > 2:
              - a(core.log):
                  message: "never"
        outputs:
          ok: true
    """})
    out = tmp_path / "out"
    assert cli.main(["compile", source, "-o", str(out)]) == 0
    assert "warning[TM0603]" in capsys.readouterr().err
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["flows"][0]["module"] == "flows/w.py"
    assert (out / "flows" / "w.py").stat().st_mode & 0o777 == 0o644


def test_plan_of_several_files(capsys: pytest.CaptureFixture[str]) -> None:
    status = cli.main(["plan", str(ROOT / "examples" / "compat"),
                       str(ROOT / "examples" / "fleet-health")])
    out = capsys.readouterr().out
    assert status == 0
    assert out.count("\nflow ") + out.startswith("flow ") == 2
    assert "flow plant-monitor" in out and "flow fleet-health" in out
