"""Compile small sources to IR in tests."""

from __future__ import annotations

from pathlib import Path

from tracemind.compiler import ir
from tracemind.compiler.pipeline import lint, lower_result


def to_ir(tmp_path: Path, files: dict[str, str], level: int | None = None
          ) -> tuple[dict[str, ir.Flow], dict[str, ir.PolicyIR]]:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    result = lint([str(tmp_path)])
    assert result.errors == 0, [str(d.message) for d in result.diagnostics]
    lowered = lower_result(result, level)
    flows = {f.id: f for f in lowered.flows.values()}
    policies = {p.id: p for p in lowered.policies.values()}
    return flows, policies


def flow_of(tmp_path: Path, steps: str, level: int | None = None, *, inputs: str = "") -> ir.Flow:
    text = "version: dsl/v1\nworkflow: w\n" + (f"inputs:\n{inputs}" if inputs else "") + \
        "steps:\n" + steps
    flows, _ = to_ir(tmp_path, {"w.wdl": text}, level)
    return flows["w"]
