"""Expression typing: operators, builtins, coalesce, constant folding."""

from __future__ import annotations

import pytest
from checking import codes, only, policy, run, workflow

from tracemind.compiler import nodes as n
from tracemind.compiler import types as t
from tracemind.compiler.check_const import fold
from tracemind.compiler.check_expr import binary_type, suggest


def typed(expr: str, head: str = "") -> tuple[str, list[str]]:
    """The type of ``expr`` as a PDL emit binding, and the codes reported."""
    result, diags = run({"pol.pdl": policy("tmp = 0", f"x: {expr}\ntmp: tmp", head=head)})
    return t.render(result.emits["pol"].get("x") or t.NEVER), codes(diags)


@pytest.mark.parametrize(
    ("expr", "want"),
    [
        ("1 + 2", "int"),
        ("1 + 2.0", "float"),
        ("7 / 2", "float"),
        ("7 // 2", "int"),
        ("7 % 2.0", "float"),
        ('"a" + "b"', "string"),
        ("[1] + [2.5]", "list<float>"),
        ("5s + 200ms", "duration"),
        ("2 * 5s", "duration"),
        ("5s / 2", "duration"),
        ("5s / 1s", "float"),
        ("-1.5", "float"),
        ("not true", "bool"),
        ("1 < 2.5", "bool"),
        ('"a" < "b"', "bool"),
        ('"a" in ["a", "b"]', "bool"),
        ('"k" in {k: 1}', "bool"),
        ('"a" not in "abc"', "bool"),
        ("1 == 1.0", "bool"),
        ('"a" == null', "bool"),
        ('1 if true else 2.5', "float"),
        ('"a" if true else null', "string?"),
        ("[1, 2.5]", "list<float>"),
        ('[1, "a"]', "list<any>"),
        ("[]", "list<never>"),
        ('{a: 1, b: "x"}', "{a: int, b: string}"),
        ('{a: [1]}["a"]', "list<int>"),
        ('values["k"].deep[0]', "any"),
    ],
)
def test_operator_and_literal_types(expr: str, want: str) -> None:
    got, diags = typed(expr)
    assert got == want
    assert set(diags) <= {"TM0603"}


@pytest.mark.parametrize(
    ("expr", "want"),
    [
        ('random(["a", "b"])', "string"),
        ("random()", "float"),
        ("min(1, 2.5)", "float"),
        ("max([1, 2])", "int"),
        ('min("a", "b")', "string"),
        ("abs(-3)", "int"),
        ("abs(-3s)", "duration"),
        ('float("1.5")', "float"),
        ("int(2.7)", "int"),
        ("str(1)", "string"),
        ('len("abc")', "int"),
        ("len(values)", "int"),
        ("round(2.5)", "int"),
        ("round(2.55, 1)", "float"),
        ("sum([1, 2])", "int"),
        ("sum([1, 2.5])", "float"),
        ("sum([])", "int"),
        ("any([true, false])", "bool"),
        ("all([])", "bool"),
        ('sorted(["b", "a"])', "list<string>"),
        ('contains(["a"], "a")', "bool"),
        ('contains("abc", "b")', "bool"),
        ('lower("A") + upper("b")', "string"),
        ("clamp(5, 0, 10)", "int"),
        ("clamp(5, 0.5, 10)", "float"),
        ("first_numeric(values)", "float"),
        ('coalesce(values["a"], 1)', "any"),
        ("coalesce(null, 1)", "int"),
        ('coalesce(null, "a", null)', "string?"),
    ],
)
def test_builtin_result_types(expr: str, want: str) -> None:
    assert typed(expr) == (want, [])


@pytest.mark.parametrize(
    ("expr", "code"),
    [
        ('1 + "a"', "TM0307"),
        ('"a" - "b"', "TM0307"),
        ("1s + 1", "TM0307"),
        ('"a" < 1', "TM0307"),
        ("1 in 2", "TM0307"),
        ('1 in {a: 1}', "TM0307"),
        ("1 == [1]", "TM0307"),
        ("true and 1", "TM0302"),
        ('-"a"', "TM0302"),
        ('1 if "x" else 2', "TM0303"),
        ('1 if true else "b"', "TM0302"),
        ('[1][0.5]', "TM0302"),
        ('{a: 1}["b"]', "TM0304"),
        ('{a: 1}.b', "TM0304"),
        ("1[0]", "TM0309"),
        ('"abc"[0]', "TM0309"),
        ("nope(1)", "TM0206"),
        ("len()", "TM0308"),
        ("coalesce()", "TM0308"),
        ('coalesce(1, "a")', "TM0302"),
        ('first_numeric("a")', "TM0302"),
        ('random("a")', "TM0302"),
        ('min([{a: 1}])', "TM0302"),
        ('min(1, "a")', "TM0302"),
        ('abs("a")', "TM0302"),
        ("float([1])", "TM0302"),
        ("len(1)", "TM0302"),
        ('round("a")', "TM0302"),
        ('round(1.5, "a")', "TM0302"),
        ('any(["a"])', "TM0302"),
        ("sorted([[1]])", "TM0302"),
        ("contains(1, 1)", "TM0302"),
        ('contains({a: 1}, 1)', "TM0302"),
        ("lower(1)", "TM0302"),
        ('clamp(1, "a", 2)', "TM0302"),
    ],
)
def test_expression_errors(expr: str, code: str) -> None:
    _, diags = typed(expr)
    assert [c for c in diags if c != "TM0603"] == [code]


def test_messages_name_both_sides() -> None:
    _, diags = run({"pol.pdl": policy("x = 1", 'y: x + "a"\nz: lower(x)')})
    assert only(diags, "TM0307").message == "operator `+` cannot take int and string"
    assert only(diags, "TM0307").help == "convert the other operand with `str(...)`"
    assert only(diags, "TM0302").message == "expected string, found int"


def test_unknown_function_suggests_and_fixes() -> None:
    text = policy("x = lenght(values)", "x: x")
    _, diags = run({"pol.pdl": text})
    diag = only(diags, "TM0206")
    assert diag.help == "did you mean `len`?"
    edit = diag.fixes[0].edits[0]
    line = text.splitlines()[edit.span.line - 1]
    assert line[edit.span.column - 1 : edit.span.end_column - 1] == "lenght"


def test_optional_values_need_coalesce_outside_it() -> None:
    wf = workflow(
        """
        - a(core.set): {value: $input.cfg.port}
        - b(core.set): {value: coalesce($input.cfg.port, 80) + 1}
        - c(core.set): {value: coalesce($input.cfg.port + 1, 0)}
        - d(core.set): {value: lower($input.name)}
        - e(core.set): {value: coalesce(lower($input.name), "x")}
        """,
        inputs="cfg: {port: int}?\nname: string?",
    )
    result, diags = run({"f.wdl": wf})
    assert codes(diags) == ["TM0302", "TM0302"]
    assert diags[0].message == "expected {port: int}, found {port: int}?"
    steps = result.step_results["wf"]
    assert [t.render(steps[s]) for s in "bce"] == [
        "{value: int}", "{value: int}", "{value: string}",
    ]


def test_plain_string_fallback_is_a_string() -> None:
    wf = workflow(
        """
        - read(opcua.read):
            endpoint: opc.tcp://localhost:4840
            node_ids: ["a"]
        """,
        version="dsl/v0",
    )
    _, diags = run({"f.wdl": wf})
    assert codes(diags) == ["TM0601"]


LIT_TRUE = n.Literal(kind=n.LitKind.BOOL, value=True)
LIT_ONE = n.Literal(kind=n.LitKind.INT, value=1)
LIT_TWO = n.Literal(kind=n.LitKind.FLOAT, value=2.0)
NAME = n.Name(id="x")


@pytest.mark.parametrize(
    ("expr", "result"),
    [
        (LIT_TRUE, (True, True)),
        (n.Unary(op=n.UnaryOp.NOT, operand=LIT_TRUE), (True, False)),
        (n.Binary(op=n.BinOp.LT, left=LIT_ONE, right=LIT_TWO), (True, True)),
        (n.Binary(op=n.BinOp.EQ, left=LIT_ONE, right=LIT_TWO), (True, False)),
        (n.Binary(op=n.BinOp.AND, left=n.Unary(op=n.UnaryOp.NOT, operand=LIT_TRUE), right=NAME),
         (True, False)),
        (n.Binary(op=n.BinOp.OR, left=NAME, right=LIT_TRUE), (True, True)),
        (n.Binary(op=n.BinOp.AND, left=NAME, right=LIT_TRUE), (False, None)),
        (n.Binary(op=n.BinOp.IN, left=LIT_ONE, right=n.ListExpr(items=(LIT_ONE,))), (True, True)),
        (n.Binary(op=n.BinOp.ADD, left=LIT_ONE, right=LIT_TWO), (True, 3.0)),
        (n.Binary(op=n.BinOp.DIV, left=LIT_ONE, right=n.Literal(kind=n.LitKind.INT, value=0)),
         (False, None)),
        (n.Conditional(cond=LIT_TRUE, then=LIT_ONE, otherwise=NAME), (True, 1)),
        (n.Binary(op=n.BinOp.GT, left=NAME, right=LIT_ONE), (False, None)),
        (n.Literal(kind=n.LitKind.DURATION, value=5000, text="5s"), (False, None)),
        (n.Binary(op=n.BinOp.EQ, left=LIT_ONE, right=n.Literal(kind=n.LitKind.STRING,
                                                               value="1")), (False, None)),
    ],
)
def test_fold(expr: n.Expr, result: tuple[bool, object]) -> None:
    assert fold(expr) == result


def test_binary_type_table() -> None:
    assert binary_type(n.BinOp.ADD, t.INT, t.INT) == t.INT
    assert binary_type(n.BinOp.MUL, t.INT, t.FLOAT) == t.FLOAT
    assert binary_type(n.BinOp.ADD, t.ANY, t.STRING) == t.ANY
    assert binary_type(n.BinOp.SUB, t.STRING, t.STRING) is None
    assert binary_type(n.BinOp.IN, t.STRING, t.MapOf(t.INT)) == t.BOOL
    assert binary_type(n.BinOp.LT, t.DURATION, t.DURATION) == t.BOOL
    assert binary_type(n.BinOp.LT, t.BOOL, t.BOOL) is None


def test_suggest() -> None:
    assert suggest("valuez", ["values", "arms"]) == "values"
    assert suggest("zzz", ["values", "arms"]) is None
