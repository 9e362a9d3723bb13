"""Workflow checking from source text: scoping, step results, bindings and the result tables."""

from __future__ import annotations

from pathlib import Path

from checking import codes, only, run, workflow

from tracemind.compiler import nodes as n
from tracemind.compiler import types as t
from tracemind.compiler.check import check
from tracemind.compiler.diagnostics import Sink
from tracemind.compiler.parse import parse_document
from tracemind.compiler.source import SourceFile

ROOT = Path(__file__).resolve().parents[1]
COMPAT = ROOT / "examples" / "compat"


def compat_files() -> dict[str, str]:
    return {
        str(COMPAT / name): (COMPAT / name).read_text(encoding="utf-8")
        for name in ("plant-monitor.wdl", "plant-monitor.pdl")
    }


def test_compat_example_checks_clean_with_the_expected_types() -> None:
    result, diags = run(compat_files())
    assert diags == []
    emit = result.emits["plant-monitor"]
    assert t.render(emit) == (
        "{action: string, target_node: string, value: int, reason: {temp: any, threshold: float}}"
    )
    assert result.policy_bindings == {"plant-monitor": {"decide": "plant-monitor"}}
    assert result.outputs["plant-monitor"] == t.Record((("decision", emit),))
    steps = result.step_results["plant-monitor"]
    assert t.render(steps["read"]) == "{values: map<any>}"
    assert steps["decide"] == emit
    assert t.render(steps["write"]) == "{status: string}"


def test_compat_example_is_strict_clean_in_v0() -> None:
    _, diags = run(compat_files(), strict=True)
    assert diags == []


def test_expression_types_are_recorded_by_node_id() -> None:
    units = _units(compat_files())
    sink = Sink()
    result = check(units, sink)
    assert sink.diagnostics() == []
    wf = units[0][1]
    assert isinstance(wf, n.Workflow)
    when = wf.steps[2]
    assert isinstance(when, n.When) and isinstance(when.cond, n.Binary)
    assert result.types[id(when.cond)] == t.BOOL
    assert result.types[id(when.cond.left)] == t.STRING
    assert result.types[id(when.cond.right)] == t.ListOf(t.STRING)
    pdl = units[1][1]
    assert isinstance(pdl, n.Policy)
    temp = pdl.evaluate[0]
    assert isinstance(temp, n.Assign) and isinstance(temp.value, n.Call)
    assert result.types[id(temp.value)] == t.ANY
    assert result.types[id(temp.value.args[1])] == t.FLOAT


def _units(files: dict[str, str]) -> list[tuple[SourceFile, n.Workflow | n.Policy]]:
    units: list[tuple[SourceFile, n.Workflow | n.Policy]] = []
    for path, text in files.items():
        source = SourceFile(path, text)
        doc = parse_document(source, Sink(), path.rsplit(".", 1)[1])
        assert doc is not None
        units.append((source, doc))
    return units


def test_block_results_change_type_after_the_block() -> None:
    result, diags = run({"flow.wdl": workflow("""
        - read(opcua.read): {endpoint: "opc.tcp://x", node_ids: ["a"]}
        - when true:
            - w(opcua.write): {endpoint: "e", node_id: "n", value: 1}
        - for node in ["a", "b"]:
            - r(opcua.read): {endpoint: "e", node_ids: [node]}
            - when false:
                - inner(core.set): {value: node}
        - s(core.set): {value: coalesce($step.w.status, "none")}
        - t(core.set): {value: coalesce($step.w, $step.w)}
        - u(core.set): {value: $step.inner}
    """, outputs="""
        reads: $step.r
        status: $step.s.value
        optional: $step.t.value
    """)})
    assert codes(diags) == ["TM0603", "TM0603"]
    outputs = result.outputs["wf"]
    assert t.render(outputs) == (
        "{reads: list<{values: map<any>}>, status: string, optional: {status: string}?}"
    )
    assert t.render(result.step_results["wf"]["u"]) == "{value: list<{value: string}?>}"


def test_coalesce_is_needed_even_for_an_any_argument() -> None:
    _, diags = run({"flow.wdl": workflow("""
        - when 1 < len("ab"):
            - w(core.set): {value: 1}
        - log(core.log): {message: $step.w.value}
        - ok(core.log): {message: coalesce($step.w.value, 0)}
    """)})
    diag = only(diags, "TM0205")
    assert diag.message == "step `w` ran only in a `when` branch; here it is optional"
    assert "coalesce" in diag.help


def test_parallel_siblings_and_nested_blocks() -> None:
    _, diags = run({"flow.wdl": workflow("""
        - parallel:
            - a(core.set): {value: 1}
            - when true:
                - b(core.set): {value: $step.a.value}
                - c(core.set): {value: $step.b.value}
        - d(core.set): {value: [$step.a.value, coalesce($step.c.value, 0)]}
    """)})
    assert codes(diags) == ["TM0603", "TM0204"]
    assert "in parallel" in only(diags, "TM0204").help


def test_policy_bound_by_name_and_by_stem() -> None:
    pdl = """
        version: pdl/v1
        policy: decider
        inputs:
          reading: {temp: float}
          mode: string = "auto"
        evaluate:
          hot = reading.temp > 80
        emit:
          hot: hot
          mode: mode
    """
    result, diags = run({
        "flows/plant.wdl": workflow("""
            - a(policy.apply):
                policy: decider
                reading: {temp: 81}
            - b(policy.apply):
                reading: {temp: "x"}
            - c(policy.apply):
                policy: decider
                mode: "manual"
            - when $step.a.hot and $step.b.mode == "auto":
                - log(core.log): {message: $step.a.mode}
        """),
        "flows/plant.pdl": pdl,
    })
    assert codes(diags) == ["TM0302", "TM0306"]
    assert only(diags, "TM0302").message == "expected {temp: float}, found {temp: string}"
    assert only(diags, "TM0306").message == "step kind `policy.apply` needs argument `reading`"
    assert result.policy_bindings["wf"] == {"a": "decider", "b": "decider", "c": "decider"}
    assert t.render(result.emits["decider"]) == "{hot: bool, mode: string}"


def test_implicit_policy_binding_is_a_strict_warning_in_v1_only() -> None:
    pdl = "version: pdl/v1\nevaluate:\n  x = 1\nemit:\n  x: x\n"
    files = {"m.wdl": workflow("- d(policy.apply): {values: {}}"), "m.pdl": pdl}
    _, diags = run(files)
    assert diags == []
    _, diags = run(files, strict=True)
    assert only(diags, "TM0607").message == "policy bound by file stem `m`; write `policy: m`"
    files["m.wdl"] = workflow("- d(policy.apply): {values: {}}", version="dsl/v0")
    _, diags = run(files, strict=True)
    assert diags == []


def test_strict_reports_any_in_checked_positions() -> None:
    source = workflow("""
        - read(opcua.read): {endpoint: "e", node_ids: ["a"]}
        - when $step.read.values["a"]:
            - w(opcua.write): {endpoint: $step.read.values["e"], node_id: "n", value: 1}
    """)
    _, diags = run({"f.wdl": source})
    assert diags == []
    _, diags = run({"f.wdl": source}, strict=True)
    assert codes(diags) == ["TM0604", "TM0604"]
    assert [d.message for d in diags] == [
        "the condition has type `any` here; the check is skipped",
        "argument `endpoint` has type `any` here; the check is skipped",
    ]


def test_flow_call_result_is_the_called_flows_outputs() -> None:
    callee = """
        version: dsl/v1
        workflow: callee
        inputs:
          url: string
          retries: int = 3
        steps:
          - get(http.get): {url: $input.url}
        outputs:
          status: $step.get.status
    """
    result, diags = run({
        "caller.wdl": workflow("""
            - c(flow.call):
                flow: callee
                inputs: {url: 3}
            - use(core.set): {value: $step.c.status + 1}
            - bad(core.log): {message: $step.c.body}
        """),
        "callee.wdl": callee,
    })
    assert codes(diags) == ["TM0605", "TM0302", "TM0304"]
    assert only(diags, "TM0605").path == "callee.wdl"
    want = "expected {url: string, retries: int?}, found {url: int}"
    assert only(diags, "TM0302").message == want
    assert result.flow_bindings["wf"] == {"c": "callee"}
    assert t.render(result.step_results["wf"]["use"]) == "{value: int}"


def test_flow_call_cycle_reads_as_any() -> None:
    def flow(name: str, other: str) -> str:
        return (f"version: dsl/v1\nworkflow: {name}\nsteps:\n  - c(flow.call):\n"
                f"      flow: {other}\n      inputs: {{}}\noutputs:\n  out: $step.c.x\n")

    result, diags = run({"a.wdl": flow("a", "b"), "b.wdl": flow("b", "a")})
    assert diags[0].code == "TM0304" and len(diags) == 1
    assert set(result.outputs) == {"a", "b"}


def test_two_files_defining_one_name() -> None:
    pdl = "version: pdl/v1\npolicy: same\nevaluate:\n  x = 1\nemit:\n  x: x\n"
    _, diags = run({
        "one.wdl": workflow("- a(core.log): {message: 1}"),
        "two.wdl": workflow("- a(core.log): {message: 1}"),
        "p1.pdl": pdl,
        "p2.pdl": pdl,
    })
    assert codes(diags) == ["TM0214", "TM0214"]
    assert {d.message for d in diags} == {
        "workflow `wf` is defined in two files", "policy `same` is defined in two files",
    }
    assert all(d.notes and d.notes[0].path in ("one.wdl", "p1.pdl") for d in diags)


def test_did_you_mean_comes_with_a_fix() -> None:
    text = workflow("- a(core.lgo): {message: 1}")
    _, diags = run({"f.wdl": text})
    diag = only(diags, "TM0211")
    assert diag.help == "did you mean `core.log`?"
    (fix,) = diag.fixes
    (edit,) = fix.edits
    line = text.splitlines()[edit.span.line - 1]
    assert line[edit.span.column - 1 : edit.span.end_column - 1] == "core.lgo"
    assert edit.text == "core.log"


def test_input_defaults_and_references() -> None:
    result, diags = run({"f.wdl": workflow(
        "- a(core.set): {value: $input}",
        inputs="""
            limit: int = 10
            ratio: float = 1
            names: list<string> = []
            when_missing: string? = null
            bad: bool = 1
        """,
    )})
    assert codes(diags) == ["TM0302"]
    assert t.render(result.step_results["wf"]["a"]) == (
        "{value: {limit: int, ratio: float, names: list<string>, when_missing: string?, "
        "bad: bool}}"
    )


def test_deeply_nested_blocks_do_not_recurse() -> None:
    """5,000 alternating `for`/`when` levels (far beyond the parser's cap): no RecursionError,
    and the leaf's type is wrapped once per level on the way out."""
    one = n.ListExpr(items=(n.Literal(kind=n.LitKind.INT, value=1),))
    leaf_ref = n.Name(id="v1")
    inner: n.Stmt = n.Step(id="leaf", kind="core.set", args=(n.Binding(name="value",
                                                                       value=leaf_ref),))
    for level in range(5000):
        if level % 2:
            inner = n.For(var=f"v{level}", iter=one, body=(inner,))
        else:
            cond = n.Binary(op=n.BinOp.GT, left=n.Name(id=f"v{level + 1}"),
                            right=n.Literal(kind=n.LitKind.INT, value=0))
            inner = n.When(cond=cond, body=(inner,))
    out = n.Attr(obj=n.Ref(root="step"), name="leaf")
    wf = n.Workflow(version="dsl/v1", name="deep", description=None, triggers=(), inputs=(),
                    steps=(inner,), outputs=(n.Binding(name="o", value=out),))
    sink = Sink()
    result = check([(SourceFile("deep.wdl", ""), wf)], sink)
    assert sink.diagnostics() == []
    typ = result.outputs["deep"].get("o")
    levels = 0
    while isinstance(typ, t.ListOf):
        typ = t.strip_optional(typ.item)
        levels += 1
    assert levels == 2500
    assert typ == t.Record((("value", t.INT),))
    assert result.types[id(leaf_ref)] == t.INT


def test_twenty_thousand_step_chain_checks_without_recursion() -> None:
    steps: list[n.Stmt] = [n.Step(id="s0", kind="core.set", args=(
        n.Binding(name="value", value=n.Literal(kind=n.LitKind.INT, value=0)),))]
    for i in range(1, 20_000):
        ref = n.Attr(obj=n.Attr(obj=n.Ref(root="step"), name=f"s{i - 1}"), name="value")
        steps.append(n.Step(id=f"s{i}", kind="core.set", args=(n.Binding(
            name="value", value=n.Binary(op=n.BinOp.ADD, left=ref, right=n.Literal(
                kind=n.LitKind.INT, value=1))),)))
    wf = n.Workflow(version="dsl/v1", name="big", description=None, triggers=(), inputs=(),
                    steps=tuple(steps), outputs=())
    sink = Sink()
    result = check([(SourceFile("big.wdl", ""), wf)], sink)
    assert sink.diagnostics() == []
    assert result.step_results["big"]["s19999"] == t.Record((("value", t.INT),))


def test_condition_messages_say_where_the_type_comes_from() -> None:
    files = compat_files()
    wdl = next(path for path in files if path.endswith(".wdl"))
    files[wdl] = files[wdl].replace('in ["WRITE_BACK","SHUTDOWN"]', "")
    _, diags = run(files)
    diag = only(diags, "TM0303")
    assert diag.message == "condition must be bool, found string"
    assert diag.label == "this is `string` (from policy plant-monitor, emit `action`)"
    assert diag.help == 'compare it, e.g. `$step.decide.action == "value"`'
