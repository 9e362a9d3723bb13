"""Lowering resolves names once and keeps explicit data edges."""

from __future__ import annotations

from pathlib import Path

from tracemind.compiler import ir
from tracemind.compiler import types as t

from .helpers import flow_of, to_ir

ROOT = Path(__file__).resolve().parents[2]


def test_compat_example_lowers_with_resolved_names(tmp_path: Path) -> None:
    compat = ROOT / "examples" / "compat"
    flows, policies = to_ir(tmp_path, {
        "plant-monitor.wdl": (compat / "plant-monitor.wdl").read_text(),
        "plant-monitor.pdl": (compat / "plant-monitor.pdl").read_text(),
    })
    flow = flows["plant-monitor"]
    read, decide, when = flow.body
    assert isinstance(read, ir.Step) and read.kind == "opcua.read"
    assert dict(read.args)["endpoint"] == ir.InputRef(name="endpoint")
    assert isinstance(decide, ir.Step)
    assert decide.policy == "plant-monitor"
    assert decide.deps == frozenset({"read"})
    assert isinstance(when, ir.When)
    (write,) = when.then
    assert isinstance(write, ir.Step) and write.deps == frozenset({"decide"})
    assert flow.step_ids == ("read", "decide", "write")
    assert flow.triggers == {"cron": {"schedule": "*/5 * * * *"}}
    policy = policies["plant-monitor"]
    assert policy.arms == {"default": {"threshold": 75.0, "action_on_violation": "WRITE_BACK",
                                       "target_node": "ns=2;i=5001"}}
    assert policy.params == {"epsilon": 0.1}
    assert [i.name for i in policy.inputs] == ["values"]
    assign, branch = policy.body
    assert isinstance(assign, ir.Assign) and assign.target == "temp"
    assert isinstance(assign.value, ir.Coalesce)
    assert isinstance(branch, ir.If)
    cond, body = branch.branches[0]
    assert isinstance(cond, ir.Binary)
    assert cond.left == ir.VarRef(name="temp")
    assert cond.right == ir.ArmField(arm=None, field_name="threshold")
    (choose,) = body
    assert isinstance(choose, ir.Choose) and choose.target == "action"
    assert choose.options[1].prob == ir.ParamRef(name="epsilon")
    assert policy.emit_type.get("reason") is not None


def test_durations_become_seconds_and_defaults_fold(tmp_path: Path) -> None:
    flow = flow_of(
        tmp_path,
        "  - nap(core.sleep):\n      duration: $input.pause\n      @timeout: 1500ms\n",
        inputs="  pause: duration = 2m\n  tags: list<string> = [\"a\", \"b\"]\n"
               "  conf: {depth: int} = {depth: 2 * 3}\n",
    )
    pause, tags, conf = flow.inputs
    assert (pause.default, pause.has_default, pause.type) == (120.0, True, t.DURATION)
    assert tags.default == ["a", "b"]
    assert conf.default == {"depth": 6}
    (nap,) = flow.body
    assert isinstance(nap, ir.Step)
    assert nap.timeout == ir.Const(value=1.5)


def test_for_variables_and_block_ids(tmp_path: Path) -> None:
    flow = flow_of(
        tmp_path,
        "  - for node in $input.nodes:\n      - r(core.set): {value: node}\n"
        "  - n(core.set): {value: len($step.r)}\n",
        inputs="  nodes: list<string>\n",
    )
    loop, count = flow.body
    assert isinstance(loop, ir.For) and loop.id == "for@6:3"
    (inner,) = loop.body
    assert isinstance(inner, ir.Step)
    assert dict(inner.args)["value"] == ir.VarRef(name="node")
    assert isinstance(count, ir.Step) and count.deps == frozenset({"r"})
    assert count.pure
