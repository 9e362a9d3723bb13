"""A wheel built from the repository works in a clean virtual environment.

Builds the wheel, installs it (with its dependencies from the package index) into a new venv
that does not see this checkout, and runs both console scripts there: the grammars must load
as package data and the ``tracemind.*`` import names must resolve without the source tree.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_installs_and_runs_in_a_clean_venv(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(dist), str(ROOT)],
        check=True,
        cwd=tmp_path,
    )
    (wheel,) = dist.glob("tracemind-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "tracemind/grammar/expr.lark" in names
    assert "tracemind/grammar/data.lark" in names
    assert "tracemind/compiler/parse.py" in names
    assert not any(name.startswith(("tests/", "compiler/", "bench/")) for name in names)

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    bin_dir = venv / "bin"
    subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "-q",
                    "--disable-pip-version-check", str(wheel)], check=True, cwd=tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    version = subprocess.run([str(bin_dir / "tmc"), "--version"], capture_output=True,
                             text=True, check=True, cwd=tmp_path, env=env)
    assert version.stdout.startswith("tmc ")
    example = tmp_path / "plant-monitor.wdl"
    example.write_bytes((ROOT / "examples/compat/plant-monitor.wdl").read_bytes())
    (tmp_path / "plant-monitor.pdl").write_bytes(
        (ROOT / "examples/compat/plant-monitor.pdl").read_bytes())
    lint = subprocess.run([str(bin_dir / "tmc"), "lint", "--format", "json", "."],
                          capture_output=True, text=True, cwd=tmp_path, env=env)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    report = json.loads(lint.stdout)
    assert report["summary"]["files"] == 2
    assert report["summary"]["errors"] == 0
    where = subprocess.run(
        [str(bin_dir / "python"), "-c",
         "import tracemind.compiler.parse as p, tracemind.runtime; print(p.__file__)"],
        capture_output=True, text=True, check=True, cwd=tmp_path, env=env)
    assert str(venv) in where.stdout
    tm = subprocess.run([str(bin_dir / "tm"), "--version"], capture_output=True, text=True,
                        check=True, cwd=tmp_path, env=env)
    assert tm.stdout.startswith("tm ")
    # The back end works from the wheel too: templates, optimizer and runtime are all there.
    project = tmp_path / "thermostat"
    project.mkdir()
    for name in ("thermostat.wdl", "thermostat.pdl", "input.json"):
        (project / name).write_bytes((ROOT / "examples/thermostat" / name).read_bytes())
    subprocess.run([str(bin_dir / "tmc"), "compile", str(project), "-o", str(tmp_path / "b"),
                    "-O2"], check=True, cwd=tmp_path, env=env)
    run = subprocess.run([str(bin_dir / "tm"), "run", str(tmp_path / "b"), "-i",
                          "@" + str(project / "input.json")], capture_output=True, text=True,
                         cwd=tmp_path, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    outputs = json.loads(run.stdout)["outputs"]
    assert outputs["summary"] == {"room": "lab", "action": "HEAT", "delta": 1.5}
