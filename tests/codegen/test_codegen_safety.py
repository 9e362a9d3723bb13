"""User text never becomes code: hostile names, strings, keys, arm values and file names come
back from the generated modules as the same data."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pytest
from cg_helpers import FakeContext, compile_texts, module_of, run_flow

from tracemind.compiler import cli
from tracemind.compiler.bundle import CompileError, compile_to_memory
from tracemind.runtime.abi import StepSite

HOSTILE = [
    "it's \"quoted\"",
    "back\\slash\\",
    "line\nbreak\r\n",
    '"""; import os; """',
    "'''",
    "{{ config }} {% for x in y %}",
    "# not a comment",
    "__import__('os').system('echo pwned')",
    "é漢字🙂 \u2028 \u202e",
    "\\N{BULLET} \\x00",
    "long " * 2000,
]


def _wdl_string(text: str) -> str:
    """``text`` as a WDL string literal (JSON escapes are WDL escapes)."""
    return json.dumps(text)


class StubRng:
    """A DecisionRng stand-in: ``uniform`` returns the queued values."""

    def __init__(self, *values: float) -> None:
        self.values = list(values)
        self.draws: list[tuple[str, Any]] = []

    def uniform(self, label: str = "random") -> float:
        return self.values.pop(0)

    def random(self, label: str = "random") -> float:
        return self.values.pop(0)

    def choice(self, items: list[Any], label: str = "random") -> Any:
        return items[0]


def _policy(texts: list[str]) -> str:
    arms = ", ".join(f"t{i}: {_wdl_string(t)}" for i, t in enumerate(texts))
    emit = "\n".join(f"  k{i}: arms.active.t{i}" for i in range(len(texts)))
    keys = ", ".join(f"{_wdl_string(t)}: {i}" for i, t in enumerate(texts))
    return (
        "version: pdl/v1\n"
        "policy: hostile.policy-1\n"
        "inputs:\n  values: map<any>\n"
        f"arms:\n  default: {{{arms}}}\n  second: {{{arms}}}\n"
        f"label: {_wdl_string(texts[0])}\n"
        "evaluate:\n"
        f"  key := {_wdl_string(texts[3])}\n"
        "  if key in values:\n    out = values[key]\n"
        f"  else:\n    out = {_wdl_string(texts[5])} + arms.second.t7\n"
        "  choose:\n"
        f"    one: pick = {_wdl_string(texts[2])} with p = 0.5\n"
        f"    two: pick = {_wdl_string(texts[6])}\n"
        f"emit:\n{emit}\n  out: out\n  pick: pick\n  label: label\n"
        f"  record: {{{keys}}}\n"
    )


def test_policy_text_comes_back_as_data(tmp_path: Path) -> None:
    bundle = compile_texts(tmp_path, {"p.pdl": _policy(HOSTILE)})
    text = bundle["policies/hostile_policy_1.py"].decode("utf-8")
    ast.parse(text)
    assert "import os" not in text.replace('"""; import os; """', "")
    module = module_of(bundle, "policies", "hostile.policy-1")
    assert set(module.ARMS) == {"default", "second"}
    arm = module.ARMS["default"]
    first = module.decide({"values": {}}, arm, module.PARAMS, StubRng(0.1))
    for i, hostile in enumerate(HOSTILE):
        assert first[f"k{i}"] == hostile
    assert first["out"] == HOSTILE[5] + HOSTILE[7]
    assert first["pick"] == HOSTILE[2]
    assert first["label"] == HOSTILE[0]
    assert first["record"] == {t: i for i, t in enumerate(HOSTILE)}
    second = module.decide({"values": {HOSTILE[3]: "found"}}, arm, module.PARAMS, StubRng(0.9))
    assert (second["out"], second["pick"]) == ("found", HOSTILE[6])


def test_workflow_text_and_file_names_come_back_as_data(tmp_path: Path) -> None:
    steps = "\n".join(
        f"  - s{i}(core.set):\n      value: {{{_wdl_string(t)}: [{_wdl_string(t)}]}}"
        for i, t in enumerate(HOSTILE))
    outputs = "\n".join(f"  o{i}: $step.s{i}.value[{_wdl_string(t)}][0]"
                        for i, t in enumerate(HOSTILE))
    source = (
        "version: dsl/v1\nworkflow: hostile.flow-1\n"
        f"description: {HOSTILE[7]}\n"
        "triggers:\n"
        f"  fs: {{path: {_wdl_string(HOSTILE[0])}, pattern: {_wdl_string(HOSTILE[5])}}}\n"
        f"inputs:\n  x: string = {_wdl_string(HOSTILE[3])}\n"
        f"steps:\n{steps}\n  - last(core.log):\n      message: $input.x\n"
        f"outputs:\n{outputs}\n"
    )
    name = "we'ird \"name\" {{x}} #é.wdl"
    bundle = compile_texts(tmp_path, {name: source})
    text = bundle["flows/hostile_flow_1.py"].decode("utf-8")
    ast.parse(text)
    module = module_of(bundle, "flows", "hostile.flow-1")
    assert name == module.SOURCE_PATH
    assert module.INPUTS["properties"]["x"]["default"] == HOSTILE[3]

    def echo(site: StepSite, args: dict[str, Any]) -> Any:
        return dict(args)

    ctx = FakeContext(echo)
    out = run_flow(module, {"x": HOSTILE[3]}, ctx)
    assert out == {f"o{i}": t for i, t in enumerate(HOSTILE)}
    assert ctx.calls[-1][1] == {"message": HOSTILE[3]}
    manifest = bundle.manifest
    assert manifest["flows"][0]["triggers"]["fs"]["pattern"] == HOSTILE[5]
    assert manifest["sources"][0]["path"] == name
    import yaml

    triggers = yaml.safe_load(bundle["triggers.yaml"])
    assert triggers["hostile.flow-1"]["fs"] == {"path": HOSTILE[0], "pattern": HOSTILE[5]}


SANDBOX_ESCAPE = """\
version: dsl/v1
workflow: escape
steps:
  - a(core.set):
      value: [c for c in ().__class__.__base__.__subclasses__()]
outputs:
  a: $step.a.value
"""


def test_a_sandbox_escape_expression_is_a_compile_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "escape.wdl"
    source.write_text(SANDBOX_ESCAPE, encoding="utf-8")
    with pytest.raises(CompileError) as error:
        compile_to_memory([str(source)])
    assert any(d.code.startswith("TM01") for d in error.value.diagnostics)
    out = tmp_path / "out"
    assert cli.main(["compile", str(source), "-o", str(out)]) == 1
    assert "error[TM01" in capsys.readouterr().err
    assert not out.exists()


def test_random_in_a_workflow_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "r.wdl"
    source.write_text("version: dsl/v1\nworkflow: r\nsteps:\n  - a(core.set):\n"
                      "      value: random()\noutputs:\n  a: $step.a.value\n", encoding="utf-8")
    with pytest.raises(CompileError) as error:
        compile_to_memory([str(source)])
    (diagnostic,) = error.value.diagnostics
    assert diagnostic.code == "TM0215" and "random" in diagnostic.message
    assert (diagnostic.span.line, diagnostic.span.column) == (5, 14)
