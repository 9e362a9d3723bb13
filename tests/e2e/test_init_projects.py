"""`tm init` projects work as created: their own tests pass (compile, run, and for the opcua
template a real OPC UA server), and `tm run` on the workflow file succeeds."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


@pytest.mark.parametrize("template", ["minimal", "opcua"])
def test_new_project_passes_its_own_tests(tmp_path: Path, template: str) -> None:
    created = subprocess.run([str(BIN / "tm"), "init", "agent", "--template", template,
                              "--dir", str(tmp_path)], capture_output=True, text=True)
    assert created.returncode == 0, created.stderr
    project = tmp_path / "agent"
    lint = subprocess.run([str(BIN / "tmc"), "lint", "."], cwd=project, capture_output=True,
                          text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                            "tests"], cwd=project, capture_output=True, text=True)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "1 passed" in tests.stdout


def test_minimal_project_runs_from_source(tmp_path: Path) -> None:
    subprocess.run([str(BIN / "tm"), "init", "hello", "--dir", str(tmp_path)], check=True,
                   capture_output=True)
    run = subprocess.run([str(BIN / "tm"), "run", "hello.wdl", "-i", "@inputs.json"],
                         cwd=tmp_path / "hello", capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["outputs"] == {"greeting": "hello, TraceMind", "letters": 16}


def test_init_refuses_a_bad_name(tmp_path: Path) -> None:
    run = subprocess.run([str(BIN / "tm"), "init", "9lives", "--dir", str(tmp_path)],
                         capture_output=True, text=True)
    assert run.returncode == 2
    assert "invalid project name" in run.stderr
    assert list(tmp_path.iterdir()) == []
