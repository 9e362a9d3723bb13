"""Golden IR dumps of the examples (`tmc dump --stage ir|opt`), per example directory.

Regenerate with ``pytest tests/golden --update-golden`` and review the diff.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tracemind.compiler.ir_dump import dump_flow, dump_policy
from tracemind.compiler.pipeline import lint, lower_result

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parent / "ir"
PROJECTS = sorted(p for p in (ROOT / "examples").iterdir()
                  if p.is_dir() and any(p.glob("*.wdl")))


@pytest.mark.parametrize("stage", ["ir", "opt"])
@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: p.name)
def test_ir_dump_matches_golden(project: Path, stage: str, update_golden: bool,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT / "examples")
    result = lint([project.name])
    assert result.errors == 0
    lowered = lower_result(result, None if stage == "ir" else 1)
    parts = [dump_flow(f) for _, f in sorted(lowered.flows.items())]
    parts += [dump_policy(p) for _, p in sorted(lowered.policies.items())]
    got = "\n".join(parts)
    golden = GOLDEN / f"{project.name}.{stage}"
    if update_golden:
        golden.write_text(got, encoding="utf-8")
    assert golden.exists(), f"missing {golden}; run pytest tests/golden --update-golden"
    assert got == golden.read_text(encoding="utf-8")
