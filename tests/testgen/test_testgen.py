"""``tmc testgen`` and ``tm test``: generated cases, coverage, mutation detection, the pytest
module, regeneration, and agreement of the coverage interpreter with the generated code."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tracemind.compiler import cli as tmc
from tracemind.compiler.bundle import compile_to_memory
from tracemind.runtime import cli as tm
from tracemind.runtime.bundle import load_bundle
from tracemind.runtime.ir_eval import trace_policy
from tracemind.runtime.testing import ir_document

ROOT = Path(__file__).resolve().parents[2]
COMPAT = ROOT / "examples" / "compat"


def _fixtures(out: Path) -> dict[str, dict[str, Any]]:
    return {p.name: json.loads(p.read_text()) for p in sorted(out.glob("*.fixture.json"))}


def _covered(fixture: dict[str, Any]) -> set[str]:
    return {b for case in fixture["cases"] for b in case["covers"]}


@pytest.fixture(scope="module")
def compat_fixtures(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("fixtures")
    assert tmc.main(["testgen", str(COMPAT), "-o", str(out)]) == 0
    return out


def _mutated(tmp_path: Path, old: str, new: str) -> Path:
    copy = tmp_path / "mutant"
    shutil.copytree(COMPAT, copy)
    pdl = copy / "plant-monitor.pdl"
    text = pdl.read_text()
    assert old in text
    pdl.write_text(text.replace(old, new))
    return copy / "plant-monitor.wdl"


def _tm_test_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    capsys.readouterr()
    code = tm.main(["test", *argv, "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def test_compat_cases_cover_every_branch(compat_fixtures: Path) -> None:
    fixtures = _fixtures(compat_fixtures)
    assert set(fixtures) == {"flow.plant_monitor.fixture.json",
                             "policy.plant_monitor.fixture.json"}
    flow, policy = (fixtures["flow.plant_monitor.fixture.json"],
                    fixtures["policy.plant_monitor.fixture.json"])
    assert _covered(flow) == {"when@15:3/then", "when@15:3/else"}
    assert _covered(policy) == {"if@10:3#1", "if@10:3#else", "choose@11:5/exploit",
                                "choose@11:5/explore"}
    for fixture in (flow, policy):
        assert len(fixture["cases"]) >= 6
        keys = [json.dumps([c["inputs"], c.get("mocks"), c["seed"], c.get("arm")],
                           sort_keys=True) for c in fixture["cases"]]
        assert len(keys) == len(set(keys))
        names = [c["name"] for c in fixture["cases"]]
        assert len(names) == len(set(names))
    # Boundaries around the threshold of the policy's arm: just below, at, just above.
    temps = {c["inputs"]["values"].get("ns=2;i=2") for c in policy["cases"]}
    assert {74.9, 75.0, 75.1} <= temps
    # Effectful steps are mocked, the policy runs for real; expectations are observed.
    assert flow["real_steps"] == ["decide"]
    at = next(c for c in flow["cases"] if c["name"].endswith("at 75.0 (plant-monitor.pdl:10:6)"))
    assert set(at["mocks"]) == {"read", "write"}
    assert at["expect"]["ran"] == ["read", "decide", "write"]
    assert at["expect"]["outputs"]["decision"]["action"] == "WRITE_BACK"
    below = next(c for c in flow["cases"] if "just below 75.0" in c["name"])
    assert below["expect"]["not_run"] == ["write"]
    assert any(c["inputs"]["nodes"] == [] for c in flow["cases"])


def test_tm_test_passes_with_full_coverage(compat_fixtures: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    code, report = _tm_test_json(capsys, str(COMPAT / "plant-monitor.wdl"),
                                 str(compat_fixtures), "--min-coverage", "100")
    assert code == 0
    assert report["passed"] == 12 and report["failed"] == 0
    assert report["coverage"]["branches"] == 6 and report["coverage"]["covered"] == 6
    assert all(case["passed"] for case in report["cases"])


def test_tm_test_text_and_min_coverage(compat_fixtures: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    flow_only = str(compat_fixtures / "flow.plant_monitor.fixture.json")
    code = tm.main(["test", str(COMPAT / "plant-monitor.wdl"), flow_only, "--coverage",
                    "--min-coverage", "90"])
    captured = capsys.readouterr()
    assert code == 1  # every case passes, but the policy's branches are not exercised
    assert "6 passed, 0 failed" in captured.out
    assert "branch coverage: 2/6 (33.3%)" in captured.out
    assert "not covered: plant-monitor.pdl:11:5" not in captured.out
    assert "choose@11:5/explore" in captured.out
    assert "below --min-coverage 90%" in captured.err


@pytest.mark.parametrize(("old", "new"), [
    ("temp >= arms.active.threshold", "temp > arms.active.threshold"),
    ("threshold: 75.0", "threshold: 80.0"),
    ("threshold: 75.0", "threshold: 70.0"),
])
def test_old_fixtures_catch_a_mutated_policy(compat_fixtures: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str],
                                             old: str, new: str) -> None:
    mutant = _mutated(tmp_path, old, new)
    code, report = _tm_test_json(capsys, str(mutant), str(compat_fixtures))
    assert code == 1
    failed = [c for c in report["cases"] if not c["passed"]]
    assert {c["kind"] for c in failed} == {"flow", "policy"}
    assert all("--- expected" in c["diff"] and "+++ actual" in c["diff"] for c in failed)


def test_failure_is_reported_with_a_diff(compat_fixtures: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    mutant = _mutated(tmp_path, "temp >= arms.active.threshold", "temp > arms.active.threshold")
    assert tm.main(["test", str(mutant), str(compat_fixtures)]) == 1
    out = capsys.readouterr().out
    assert "FAIL policy plant-monitor: input values: 'ns=2;i=2': at 75.0" in out
    assert '-      "action": "WRITE_BACK",' in out
    assert '+      "action": "NONE",' in out


def test_regeneration_replaces_stale_fixtures(tmp_path: Path) -> None:
    out = tmp_path / "fx"
    assert tmc.main(["testgen", str(COMPAT), "-o", str(out)]) == 0
    stale = out / "flow.renamed_flow.fixture.json"
    shutil.copy(out / "flow.plant_monitor.fixture.json", stale)
    foreign = out / "notes.fixture.json"
    foreign.write_text('{"mine": true}\n')
    assert tmc.main(["testgen", str(COMPAT), "-o", str(out)]) == 0
    assert not stale.exists()
    assert foreign.exists()
    assert (out / "test_tracemind_fixtures.py").exists()


def test_generated_pytest_module_runs(compat_fixtures: Path, tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          str(compat_fixtures)], capture_output=True, text=True,
                         cwd=tmp_path, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "12 passed" in run.stdout


def test_branches_of_else_for_and_error_paths(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "src" / "checks.wdl"
    source.parent.mkdir()
    source.write_text(
        "version: dsl/v1\n"
        "workflow: checks\n"
        "inputs:\n"
        "  url: string\n"
        "  limits: list<int> = [1]\n"
        "steps:\n"
        "  - fetch(http.get):\n"
        "      url: $input.url\n"
        "      @on_error: continue\n"
        "  - for limit in $input.limits:\n"
        "      - when limit > 10:\n"
        "          - big(core.set):\n"
        "              value: limit\n"
        "        else:\n"
        "          - small(core.set):\n"
        "              value: limit\n"
        "  - when coalesce($step.fetch.status, 0) == 200:\n"
        "      - ok(core.log):\n"
        "          message: \"up\"\n"
        "outputs:\n"
        "  status: coalesce($step.fetch.status, -1)\n")
    out = tmp_path / "fx"
    assert tmc.main(["testgen", str(source.parent), "-o", str(out)]) == 0
    fixture = _fixtures(out)["flow.checks.fixture.json"]
    assert _covered(fixture) == set(fixture["branches"])
    assert len(fixture["branches"]) == 4
    error_case = next(c for c in fixture["cases"] if "fails (@on_error: continue)" in c["name"])
    assert error_case["expect"]["failed"] == ["fetch"]
    assert error_case["expect"]["outputs"] == {"status": -1}
    assert any(c["inputs"].get("limits") == [] for c in fixture["cases"])
    code, report = _tm_test_json(capsys, str(source), str(out), "--min-coverage", "100")
    assert code == 0 and report["failed"] == 0


@pytest.mark.parametrize("example", ["compat", "thermostat"])
def test_interpreter_agrees_with_generated_policy(example: str) -> None:
    bundle = load_bundle(compile_to_memory([str(ROOT / "examples" / example)]))
    for policy_id, entry in bundle.policies.items():
        document = ir_document(bundle, "policy", policy_id)
        runner = entry.runner
        for temp in (10.0, 19.9, 20.0, 74.9, 75.0, 80.0, 99.5):
            for seed in range(40):
                inputs = entry.prepare_inputs({"values": {"ns=2;i=2": temp}})
                decision = runner.decide(inputs, seed=seed)
                trace = trace_policy(document, inputs, runner.arms[runner.default_arm],
                                     runner.params, seed)
                assert trace.error is None
                assert trace.output == decision.output
                assert trace.draws == decision.draws


def test_tm_test_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.fixture.json"
    bad.write_text("[]")
    assert tm.main(["test", str(COMPAT / "plant-monitor.wdl"), str(bad)]) == 2
    assert "not a fixture file" in capsys.readouterr().err
    assert tm.main(["test", str(COMPAT / "plant-monitor.wdl"), str(tmp_path / "empty")]) == 2
