"""Policy checking from source text: emit types, variables, arms, choose and names."""

from __future__ import annotations

from checking import codes, only, policy, run

from tracemind.compiler import nodes as n
from tracemind.compiler import types as t
from tracemind.compiler.check import check
from tracemind.compiler.diagnostics import Sink
from tracemind.compiler.source import SourceFile


def emit_of(text: str) -> tuple[str, list[str]]:
    result, diags = run({"pol.pdl": text})
    return t.render(result.emits["pol"]), codes(diags)


def test_variable_type_is_the_join_of_its_assignments() -> None:
    emit, diags = emit_of(policy("""
        if values["a"] > 1:
          x = 1
        else:
          x = 2.5
        y = null
        y = "text"
    """, "x: x\ny: y"))
    assert diags == []
    assert emit == "{x: float, y: string?}"


def test_choose_bare_option_assigns_the_common_target() -> None:
    emit, diags = emit_of(policy("""
        choose:
          keep: action = "KEEP" with p = 0.5
          other: random(["A", "B"])
    """, "action: action"))
    assert diags == []
    assert emit == "{action: string}"


def test_choose_options_assigning_different_targets_assign_neither() -> None:
    _, diags = emit_of(policy("""
        choose:
          one: a = 1 with p = 0.5
          two: b = 2
    """, "a: a\nb: b"))
    assert diags == ["TM0502", "TM0502"]


def test_arms_types_join_and_are_readable_by_name() -> None:
    emit, diags = emit_of(policy("x = arms.cautious.threshold", "x: x\nnode: arms.active.node",
                                 head="""
        arms:
          default: {threshold: 75, node: null}
          cautious: {threshold: 65.5, node: "n"}
    """))
    assert diags == []
    assert emit == "{x: float, node: string?}"


def test_params_are_typed_by_their_literal() -> None:
    emit, diags = emit_of(policy("x = epsilon * 2", "x: x\nw: weights\nn: name", head="""
        epsilon: 0.1
        weights: [1, 2, 3]
        name: WRITE_BACK
    """))
    assert diags == []
    assert emit == "{x: float, w: list<int>, n: string}"


def test_declared_inputs_replace_the_default() -> None:
    _, diags = emit_of(policy("x = values", "x: x", head="inputs:\n  reading: float"))
    assert diags == ["TM0605", "TM0207"]
    emit, diags = emit_of(policy("x = reading + 1", "x: x", head="inputs:\n  reading: float"))
    assert (emit, diags) == ("{x: float}", [])


def test_emitting_a_variable_counts_as_a_use() -> None:
    _, diags = emit_of(policy("a = 1\nb = 2\nc = a", "b: b"))
    assert diags == ["TM0606"]
    assert only(run({"pol.pdl": policy("a = 1\nb = 2\nc = a", "b: b")})[1], "TM0606").message == (
        "`c` is assigned but never read or emitted"
    )


def test_read_before_assignment_points_at_the_assignment() -> None:
    _, diags = run({"pol.pdl": policy("""
        if values["a"] > 1:
          x = 1
        y = x
    """, "y: y")})
    diag = only(diags, "TM0501")
    assert diag.message == "`x` may be read before it is assigned"
    assert diag.notes[0].span is not None and diag.notes[0].span.line == 5


def test_probability_sum_uses_constants_only() -> None:
    _, diags = emit_of(policy("""
        choose:
          a: x = 1 with p = 0.5 + 0.4
          b: x = 2 with p = 0.2
          c: x = 3 with p = epsilon
    """, "x: x", head="epsilon: 0.9"))
    assert diags == ["TM0504"]
    assert only(run({"pol.pdl": policy("""
        choose:
          a: x = 1 with p = 0.5 + 0.4
          b: x = 2 with p = 0.2
    """, "x: x")})[1], "TM0504").message == "`choose` probabilities add up to 1.1, more than 1"


def test_deeply_nested_ifs_do_not_recurse() -> None:
    depth = 4000
    body: tuple[n.PStmt, ...] = (n.Assign(target="x", value=n.Literal(kind=n.LitKind.INT,
                                                                       value=1)),)
    for _ in range(depth):
        key = n.Literal(kind=n.LitKind.STRING, value="a")
        cond = n.Binary(op=n.BinOp.GT, left=n.Index(obj=n.Name(id="values"), index=key),
                        right=n.Literal(kind=n.LitKind.INT, value=0))
        body = (n.If(branches=(n.IfBranch(cond=cond, body=body),),
                     orelse=(n.Assign(target="x", value=n.Literal(kind=n.LitKind.INT,
                                                                  value=2)),)),)
    pol = n.Policy(version="pdl/v1", name="deep", name_explicit=True, inputs=(),
                   arms=(), params=(), evaluate=body,
                   emit=(n.Binding(name="x", value=n.Name(id="x")),))
    sink = Sink()
    result = check([(SourceFile("deep.pdl", ""), pol)], sink)
    assert sink.diagnostics() == []
    assert result.emits["deep"] == t.Record((("x", t.INT),))
