"""Optimizer passes: what each rewrites, and that none moves a run-time error earlier."""

from __future__ import annotations

from pathlib import Path

from tracemind.compiler import ir
from tracemind.compiler import types as t
from tracemind.compiler.nodes import BinOp, UnaryOp
from tracemind.compiler.opt import PASSES, optimize_flow
from tracemind.compiler.opt.fold import fold_expr
from tracemind.compiler.opt.guards import simplify

from .helpers import flow_of, to_ir


def c(value: ir.Json) -> ir.Const:
    return ir.Const(value=value)


def test_pass_table_levels() -> None:
    assert [(p.name, p.level) for p in PASSES] == [
        ("fold-constants", 1), ("drop-dead-branches", 1), ("simplify-guards", 1),
        ("prune-unused-pure-steps", 2), ("concurrency-levels", 2),
    ]


def test_fold_evaluates_constants() -> None:
    expr = ir.Binary(op=BinOp.ADD, left=c(2), right=ir.Binary(op=BinOp.MUL, left=c(3),
                                                                 right=c(4)))
    assert fold_expr(expr) == c(14)
    assert fold_expr(ir.ListExpr(items=(c(1), ir.Unary(op=UnaryOp.NEG, operand=c(2))))) == c(
        [1, -2])
    assert fold_expr(ir.Call(func="len", args=(c("abc"),))) == c(3)
    assert fold_expr(ir.Coalesce(args=(c(None), c("x"), ir.VarRef(name="y")))) == c("x")


def test_fold_never_moves_a_run_time_error_earlier() -> None:
    x = ir.VarRef(name="x")
    for expr in (
        ir.Binary(op=BinOp.DIV, left=c(1), right=c(0)),
        ir.Binary(op=BinOp.MOD, left=c(1), right=c(0)),
        ir.Index(obj=c([1, 2]), index=c(5)),
        ir.Field(obj=c({"a": 1}), name="b"),
        ir.Call(func="first_numeric", args=(c([]),)),
        ir.Binary(op=BinOp.MUL, left=c(1e308), right=c(10.0)),
    ):
        assert fold_expr(expr) == expr
    # `x and false` still evaluates x (which may fail): only a constant left side folds.
    keep = ir.Binary(op=BinOp.AND, left=x, right=c(False))
    assert fold_expr(keep) == keep
    assert fold_expr(ir.Binary(op=BinOp.AND, left=c(False), right=x)) == c(False)
    assert fold_expr(ir.Binary(op=BinOp.OR, left=c(False), right=x)) == x


def test_guard_simplification() -> None:
    x = ir.VarRef(name="x", type=t.BOOL)
    not_x = ir.Unary(op=UnaryOp.NOT, operand=x)
    assert simplify(ir.Unary(op=UnaryOp.NOT, operand=not_x)) == x
    assert simplify(ir.Binary(op=BinOp.EQ, left=x, right=c(True))) == x
    assert simplify(ir.Binary(op=BinOp.NE, left=x, right=c(False))) == x
    assert simplify(ir.Binary(op=BinOp.EQ, left=x, right=c(False))) == not_x
    a, b = ir.VarRef(name="a"), ir.VarRef(name="b")
    assert simplify(ir.Unary(op=UnaryOp.NOT, operand=ir.Binary(op=BinOp.EQ, left=a, right=b))) \
        == ir.Binary(op=BinOp.NE, left=a, right=b)


def test_dead_branches_are_removed_but_ids_kept(tmp_path: Path) -> None:
    steps = (
        "  - when 1 > 2:\n      - a(core.set): {value: 1}\n    else:\n"
        "      - b(core.log): {message: 2}\n"
        "  - when 2 > 1:\n      - c(core.log): {message: 3}\n"
        "  - d(core.log): {message: coalesce($step.a.value, 0)}\n"
    )
    raw = flow_of(tmp_path, steps)
    opt = optimize_flow(raw, 1)
    assert [n.id for n in opt.body] == ["b", "c", "d"]
    assert opt.step_ids == ("a", "b", "c", "d")
    assert [type(n) for n in optimize_flow(raw, 0).body] == [ir.When, ir.When, ir.Step]


def test_prune_unused_pure_steps_to_a_fixed_point(tmp_path: Path) -> None:
    steps = (
        "  - a(core.set): {value: 1}\n"
        "  - b(core.set): {value: $step.a.value + 1}\n"
        "  - c(core.set): {value: 3}\n"
        "  - log(core.log): {message: $step.c.value}\n"
        "  - risky(http.get):\n      url: \"http://x\"\n      @on_error: target\n"
        "  - target(core.set):\n      value: 4\n"
    )
    opt = optimize_flow(flow_of(tmp_path, steps), 2)
    assert [n.id for n in ir.iter_steps(opt.body)] == ["c", "log", "risky", "target"]
    assert [n.id for n in ir.iter_steps(optimize_flow(flow_of(tmp_path, steps), 1).body)] == [
        "a", "b", "c", "log", "risky", "target"]


def test_concurrency_groups_independent_pure_steps(tmp_path: Path) -> None:
    steps = (
        "  - a(core.set): {value: 1}\n"
        "  - b(core.set): {value: 2}\n"
        "  - c(core.set): {value: $step.a.value}\n"
        "  - out(core.log): {message: [$step.a.value, $step.b.value, $step.c.value]}\n"
    )
    opt = optimize_flow(flow_of(tmp_path, steps), 2)
    first, second, third = opt.body
    assert isinstance(first, ir.Concurrent)
    assert [s.id for s in first.steps] == ["a", "b"]
    assert isinstance(second, ir.Step) and second.id == "c"
    assert isinstance(third, ir.Step) and third.id == "out"
    assert not any(isinstance(n, ir.Concurrent) for n in optimize_flow(
        flow_of(tmp_path, steps), 1).body)


def test_policy_dead_branches(tmp_path: Path) -> None:
    text = ("version: pdl/v1\nevaluate:\n  if 1 > 2:\n    x = 1\n  elif true:\n    x = 2\n"
            "  else:\n    x = 3\nemit:\n  x: x\n")
    _, policies = to_ir(tmp_path, {"p.pdl": text}, 1)
    (stmt,) = policies["p"].body
    assert stmt == ir.Assign(target="x", value=c(2))
